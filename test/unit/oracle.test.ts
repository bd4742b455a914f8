import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import fc from "fast-check";
import jwt from "jsonwebtoken";
import { createVerifier, TokenError, type Reason, type Verifier } from "bearer-gate";
import { NOW } from "../fixtures/tokens.js";
import { JwksServer } from "../fixtures/jwks-server.js";

// jsonwebtoken.verify, the reference verifier, as a differential oracle: over valid tokens and
// their mutations, bearer-gate never accepts what it rejects (with the same key and algorithm), and
// accepts what it accepts unless one of our stricter rules, listed here, refuses it.
const STRICTER: Readonly<Partial<Record<Reason, string>>> = {
  malformed_token:
    "exp is required; registered claims have their registered types; a crit header is refused; segments are " +
    "canonical base64url of UTF-8 JSON objects; the scope claim is a string or a list of strings",
  not_yet_valid: "an iat in the future is refused (jsonwebtoken does not judge iat)",
  wrong_token_use: "a refresh token (token_type) or an ID token (token_use) never opens an access-token route",
};

const SECRET = "a-secret-for-the-differential-oracle!";
const OTHER_SECRET = "another-secret-for-the-oracle-test!!";
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "PS256", "ES256", "none", "hs256", "RS256 "];

type Signer = { alg: "HS256" | "RS256"; signKey: string | KeyObject; otherKey: string | KeyObject };

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64url");
const unb64 = (segment: string): string => Buffer.from(segment, "base64url").toString("utf8");
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// mostly valid claims, sometimes odd ones, so both sides of every rule are exercised
const claimsArb = fc.record(
  {
    sub: fc.oneof(fc.string(), fc.integer()),
    exp: fc.oneof({ arbitrary: fc.integer({ min: NOW + 1, max: NOW + 86_400 }), weight: 8 }, fc.constant(NOW - 5)),
    iat: fc.oneof({ arbitrary: fc.integer({ min: NOW - 86_400, max: NOW }), weight: 8 }, fc.constant(NOW + 60)),
    nbf: fc.oneof(fc.integer({ min: NOW - 100, max: NOW }), fc.constant(NOW + 30)),
    scope: fc.oneof(fc.constant("posts users"), fc.array(fc.string()), fc.integer()),
    token_type: fc.constantFrom("access", "refresh"),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

type Mutation =
  | { kind: "none" }
  | { kind: "flip"; segment: 0 | 1 | 2; at: number; to: number }
  | { kind: "alg"; alg: string }
  | { kind: "crit" }
  | { kind: "reencode"; segment: 0 | 1 | 2; how: "padding" | "base64" }
  | { kind: "extra"; where: "end" | "start" | "dot"; text: string }
  | { kind: "swapKey" };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.constant({ kind: "none" as const }), weight: 4 },
  fc.record({
    kind: fc.constant("flip" as const),
    segment: fc.constantFrom(0 as const, 1 as const, 2 as const),
    at: fc.nat(),
    to: fc.nat({ max: 63 }),
  }),
  fc.record({ kind: fc.constant("alg" as const), alg: fc.constantFrom(...ALGS) }),
  fc.constant({ kind: "crit" as const }),
  fc.record({
    kind: fc.constant("reencode" as const),
    segment: fc.constantFrom(0 as const, 1 as const, 2 as const),
    how: fc.constantFrom("padding" as const, "base64" as const),
  }),
  fc.record({
    kind: fc.constant("extra" as const),
    where: fc.constantFrom("end" as const, "start" as const, "dot" as const),
    text: fc.constantFrom("=", ".", " ", "\n", "x", "==", ".x"),
  }),
  fc.constant({ kind: "swapKey" as const }),
);

function mutate(token: string, mutation: Mutation, signer: Signer, claims: object): string {
  const parts = token.split(".") as [string, string, string];
  switch (mutation.kind) {
    case "none":
      return token;
    case "flip": {
      const segment = parts[mutation.segment];
      if (segment.length === 0) return token;
      const at = mutation.at % segment.length;
      parts[mutation.segment] = segment.slice(0, at) + B64URL[mutation.to]! + segment.slice(at + 1);
      return parts.join(".");
    }
    case "alg":
    case "crit": {
      const header = JSON.parse(unb64(parts[0])) as Record<string, unknown>;
      if (mutation.kind === "alg") header["alg"] = mutation.alg;
      else header["crit"] = ["exp"];
      // the signature is left as it was: only the header differs
      parts[0] = b64(JSON.stringify(header));
      return parts.join(".");
    }
    case "reencode": {
      const bytes = Buffer.from(parts[mutation.segment], "base64url");
      parts[mutation.segment] =
        mutation.how === "base64" ? bytes.toString("base64").replace(/=+$/, "") : bytes.toString("base64");
      return parts.join(".");
    }
    case "extra":
      if (mutation.where === "end") return token + mutation.text;
      if (mutation.where === "start") return mutation.text + token;
      return `${parts[0]}.${mutation.text}${parts[1]}.${parts[2]}`;
    case "swapKey":
      return jwt.sign(claims, signer.otherKey, { algorithm: signer.alg, noTimestamp: true });
  }
}

function oracleAccepts(token: string, key: string | KeyObject, alg: string): boolean {
  try {
    jwt.verify(token, key, { algorithms: [alg as jwt.Algorithm], clockTimestamp: NOW });
    return true;
  } catch {
    return false;
  }
}

async function ours(verifier: Verifier, token: string): Promise<Reason | "accepted"> {
  try {
    await verifier.verifyToken(token);
    return "accepted";
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    return error.reason;
  }
}

let jwks: JwksServer;
beforeAll(async () => {
  const jwk = { ...createPublicKey(rsa.privateKey).export({ format: "jwk" }), kid: "oracle", alg: "RS256", use: "sig" };
  jwks = await JwksServer.start([{ kid: "oracle", privateKey: rsa.privateKey, jwk }]);
});
afterAll(() => jwks.close());

describe.each<[string, Signer, number]>([
  ["HS256", { alg: "HS256", signKey: SECRET, otherKey: OTHER_SECRET }, 1500],
  ["RS256", { alg: "RS256", signKey: rsa.privateKey, otherKey: otherRsa.privateKey }, 300],
])("bearer-gate against jsonwebtoken.verify, %s", (alg, signer, numRuns) => {
  it("never accepts what the oracle rejects, and refuses what it accepts only by a listed stricter rule", async () => {
    // the same key and the one algorithm for both; no issuer or audience (the oracle is given none)
    const common = { algorithms: [signer.alg], clock: () => NOW * 1000, tokenCache: false as const };
    const verifier = createVerifier(
      alg === "HS256" ? { secret: SECRET, ...common } : { jwksUri: jwks.jwksUri, ...common },
    );
    const oracleKey = alg === "HS256" ? SECRET : createPublicKey(rsa.privateKey);
    const seen = { both: 0, neither: 0, stricter: 0 };
    await fc.assert(
      fc.asyncProperty(claimsArb, mutationArb, async (claims, mutation) => {
        const signed = jwt.sign(claims, signer.signKey, { algorithm: signer.alg, noTimestamp: true });
        const token = mutate(signed, mutation, signer, claims);
        const oracle = oracleAccepts(token, oracleKey, signer.alg);
        const answer = await ours(verifier, token);
        if (answer === "accepted") {
          expect(oracle).toBe(true);
          seen.both += 1;
        } else if (oracle) {
          expect(Object.keys(STRICTER)).toContain(answer);
          seen.stricter += 1;
        } else {
          seen.neither += 1;
        }
      }),
      { numRuns },
    );
    // every outcome was met, so the property says something
    expect(Math.min(seen.both, seen.neither, seen.stricter)).toBeGreaterThan(numRuns / 100);
  }, 60_000);
});
