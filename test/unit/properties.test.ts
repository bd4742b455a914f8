import fc from "fast-check";
import { ALL_REASONS, createVerifier, errorResponse, TokenError } from "bearer-gate";
import { BODY_400, BODY_401, BODY_420, BODY_450, BODY_980 } from "../fixtures/catalogue.js";
import { fixedClock, HMAC_SECRET, NOW, ROOMS_AUDIENCE, signHmac } from "../fixtures/tokens.js";

const ISSUER = "Rooms-API-Internal-Access";
const verifier = createVerifier({ secret: HMAC_SECRET, clock: fixedClock, issuer: ISSUER, audience: ROOMS_AUDIENCE });

/** What verify() did with an input: the auth context, or the TokenError; anything else fails. */
async function outcome(authorization: string): Promise<"resolved" | TokenError> {
  try {
    await verifier.verify(authorization);
    return "resolved";
  } catch (error) {
    if (error instanceof TokenError) return error;
    throw new Error(`verify rejected with a non-TokenError: ${String(error)}`, { cause: error });
  }
}

// The rules, written again from the README rather than imported, so the two can disagree.
function shouldPass(claims: unknown): boolean {
  if (claims === null || typeof claims !== "object" || Array.isArray(claims)) return false;
  const c = claims as Record<string, unknown>;
  const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);
  const isString = (v: unknown): boolean => typeof v === "string";
  const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every(isString);
  return (
    isNumber(c["exp"]) && c["exp"] > NOW && c["exp"] <= 8.64e12 &&
    optional(c["nbf"], (v) => isNumber(v) && v <= NOW) &&
    optional(c["iat"], (v) => isNumber(v) && v <= NOW) &&
    optional(c["sub"], isString) && optional(c["jti"], isString) &&
    c["iss"] === ISSUER &&
    (c["aud"] === ROOMS_AUDIENCE || (isStrings(c["aud"]) && (c["aud"] as string[]).includes(ROOMS_AUDIENCE))) &&
    c["token_type"] !== "refresh" && c["token_use"] !== "id" &&
    optional(c["scope"], (v) => isString(v) || isStrings(v))
  ); // prettier-ignore
}

const anyValue = fc.jsonValue({ maxDepth: 2 });
// mostly a valid value, sometimes any JSON, sometimes absent: so that both outcomes are common
const claimValue = (...valid: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: fc.oneof(...valid), weight: 12 },
    { arbitrary: anyValue, weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
const claimsArbitrary = fc.record({
  exp: claimValue(
    fc.oneof(
      { arbitrary: fc.integer({ min: NOW - 100, max: NOW + 100_000 }), weight: 3 },
      { arbitrary: fc.double({ noNaN: true }), weight: 1 },
    ),
  ),
  nbf: claimValue(fc.integer({ min: NOW - 300, max: NOW + 100 })),
  iat: claimValue(
    fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: NOW }), weight: 5 },
      { arbitrary: fc.integer({ min: NOW + 1, max: NOW + 600 }), weight: 1 },
    ),
  ),
  iss: claimValue(fc.constant(ISSUER)),
  aud: claimValue(fc.constant(ROOMS_AUDIENCE), fc.constant([ROOMS_AUDIENCE, "x"]), fc.constant(["x"])),
  sub: claimValue(fc.string()),
  jti: claimValue(fc.string()),
  token_type: claimValue(fc.constantFrom("access", "refresh")),
  token_use: claimValue(fc.constantFrom("access", "id")),
  scope: claimValue(fc.string(), fc.array(fc.string())),
  extra: fc.dictionary(fc.string(), anyValue),
});

describe("properties", () => {
  it("rejects any Authorization string with a TokenError, never anything else", async () => {
    const header = fc.oneof(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.string({ maxLength: 300 }).map((s) => `Bearer ${s}`),
      fc
        .array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 5 })
        .map((parts) => `Bearer ${parts.join(".").replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        expect(await outcome(authorization)).toBeInstanceOf(TokenError);
      }),
      { numRuns: 3000 },
    );
  });

  it("resolves a correctly signed token exactly when its claims keep every rule", async () => {
    const seen = { resolved: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(claimsArbitrary, async ({ extra, ...registered }) => {
        const claims = { ...extra, ...registered };
        const result = await outcome(`Bearer ${signHmac(claims)}`);
        expect(result === "resolved").toBe(shouldPass(JSON.parse(JSON.stringify(claims))));
        seen[result === "resolved" ? "resolved" : "refused"] += 1;
      }),
      { numRuns: 3000 },
    );
    // both sides of the rule were exercised, so the property says something
    expect(Math.min(seen.resolved, seen.refused)).toBeGreaterThan(30);
  });

  it("answers a cache hit exactly as a miss, whatever the claims and however the clock moved", async () => {
    let now = NOW;
    const options = {
      secret: HMAC_SECRET,
      clock: () => now * 1000,
      issuer: ISSUER,
      audience: ROOMS_AUDIENCE,
      clockTolerance: 2,
    };
    const settle = (promise: Promise<unknown>): Promise<unknown> =>
      promise.then(
        (auth) => ({ auth }),
        (error: unknown) => ({ reason: (error as TokenError).reason }),
      );
    await fc.assert(
      fc.asyncProperty(
        claimsArbitrary,
        fc.integer({ min: -200, max: 200_000 }),
        async ({ extra, ...registered }, drift) => {
          const token = `Bearer ${signHmac({ ...extra, ...registered })}`;
          const cached = createVerifier(options);
          now = NOW;
          await settle(cached.verify(token)); // fills the cache when the token is good now
          now = NOW + drift;
          const [hit, miss] = await Promise.all([
            settle(cached.verify(token)),
            settle(createVerifier({ ...options, tokenCache: false }).verify(token)),
          ]);
          expect(hit).toEqual(miss);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("refuses any JSON that is not an object as claims", async () => {
    await fc.assert(
      fc.asyncProperty(
        anyValue.filter((v) => v === null || typeof v !== "object" || Array.isArray(v)),
        async (payload) => {
          expect(
            await outcome(`Bearer ${signHmac(JSON.stringify(payload) as unknown as Record<string, unknown>)}`),
          ).toMatchObject({ code: 450 });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("renders anything thrown as a catalogue body, with a challenge no value can break", () => {
    const bodies = new Set([BODY_400, BODY_401, BODY_420, BODY_450, BODY_980]);
    const thrown = fc.oneof(
      fc.anything(),
      fc
        .tuple(fc.constantFrom(...ALL_REASONS), fc.array(fc.string({ unit: "binary" }), { maxLength: 4 }))
        .map(([reason, params]) => new TokenError(reason, reason.startsWith("insufficient_") ? params : undefined)),
    );
    fc.assert(
      fc.property(thrown, (error) => {
        const { status, headers, body } = errorResponse(error);
        const text = JSON.stringify(body);
        const withoutParams = JSON.stringify({ error: { message: body.error.message, code: body.error.code } });
        expect(bodies.has(text) || (status === 403 && bodies.has(withoutParams))).toBe(true);
        expect([401, 403, 503]).toContain(status);
        const challenge = headers["WWW-Authenticate"] ?? "";
        expect(challenge).not.toMatch(/[\r\n\\]/);
        expect(challenge.replace(/="[^"]*"/g, "")).not.toContain('"'); // every quote opens or closes a value
      }),
      { numRuns: 3000 },
    );
  });
});
