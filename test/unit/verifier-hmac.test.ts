import { createVerifier, TokenError, type Claims, type VerifierOptions } from "bearer-gate";
import jwt from "jsonwebtoken";
import { rejectionOf } from "../helpers.js";
import { SEED_ROOMS_ACCESS_TOKEN, SEED_ROOMS_REFRESH_TOKEN } from "../fixtures/seeds.js";
import {
  fixedClock,
  HMAC_SECRET,
  NOW,
  rawToken,
  ROOMS_AUDIENCE,
  roomsAccessClaims,
  roomsRefreshClaims,
  signHmac,
} from "../fixtures/tokens.js";

const base: VerifierOptions = {
  secret: HMAC_SECRET,
  clock: fixedClock,
  issuer: "Rooms-API-Internal-Access",
  audience: ROOMS_AUDIENCE,
};
const verifier = createVerifier(base);
const bearer = (token: string): string => `Bearer ${token}`;

describe("an HMAC verifier", () => {
  it("resolves a valid access token to its auth context", async () => {
    const token = signHmac(roomsAccessClaims());
    const auth = await verifier.verify(bearer(token));
    expect(auth.token).toBe(token);
    expect(auth.claims).toMatchObject({ iss: "Rooms-API-Internal-Access", uid: 2, token_type: "access" });
    expect(auth.scopes).toEqual(["users", "posts", "camps"]);
    expect(auth.expiresAt).toEqual(new Date((NOW + 86_400) * 1000));
    expect(auth.expiresIn).toBe(86_400);
  });

  it("verifies a bare token with verifyToken", async () => {
    await expect(verifier.verifyToken(signHmac(roomsAccessClaims()))).resolves.toHaveProperty("expiresIn", 86_400);
  });

  const cases: [string, string, TokenError["reason"]][] = [
    [
      "a refresh token presented as an access token",
      signHmac(roomsRefreshClaims({ iss: "Rooms-API-Internal-Access", exp: NOW + 60 })),
      "wrong_token_use",
    ],
    ["an expired token", signHmac(roomsAccessClaims({ exp: NOW - 1 })), "expired"],
    ["a token expiring this very second", signHmac(roomsAccessClaims({ exp: NOW })), "expired"],
    ["a token without exp", signHmac(roomsAccessClaims({ exp: undefined })), "malformed_token"],
    ["a token not valid yet", signHmac(roomsAccessClaims({ nbf: NOW + 10 })), "not_yet_valid"],
    ["a token from another issuer", signHmac(roomsAccessClaims({ iss: "Someone-Else" })), "wrong_issuer"],
    ["a token without iss", signHmac(roomsAccessClaims({ iss: undefined })), "wrong_issuer"],
    ["a token for another audience", signHmac(roomsAccessClaims({ aud: "other" })), "wrong_audience"],
    ["a token without aud", signHmac(roomsAccessClaims({ aud: undefined })), "wrong_audience"],
    [
      "a token signed with another secret",
      signHmac(roomsAccessClaims(), "another-secret-entirely"),
      "invalid_signature",
    ],
    [
      "an HS512 token when only HS256 is allowed",
      signHmac(roomsAccessClaims(), HMAC_SECRET, "HS512"),
      "algorithm_not_allowed",
    ],
    ["an alg none token", rawToken({ alg: "none", typ: "JWT" }, roomsAccessClaims(), ""), "algorithm_not_allowed"],
    ["an alg NONE token", rawToken({ alg: "NONE" }, roomsAccessClaims(), ""), "algorithm_not_allowed"],
    [
      "an HS256 token with an empty signature",
      rawToken({ alg: "HS256" }, roomsAccessClaims(), ""),
      "invalid_signature",
    ],
    ["an ID token", signHmac(roomsAccessClaims({ token_use: "id" })), "wrong_token_use"],
    ["a token whose scope is a number", signHmac(roomsAccessClaims({ scope: 7 })), "malformed_token"],
    ["the seed's access token (expired, other secret)", SEED_ROOMS_ACCESS_TOKEN, "invalid_signature"],
    ["the seed's refresh token", SEED_ROOMS_REFRESH_TOKEN, "invalid_signature"],
  ];
  it.each(cases)("refuses %s", async (_name, token, reason) => {
    expect(await rejectionOf(verifier.verify(bearer(token)))).toMatchObject({ reason, code: 450, status: 401 });
  });

  it("refuses the seed tokens with the seed's secret unknown, and as expired or refresh given any secret", async () => {
    // what the seeds say when the signature does verify: re-sign their exact claims with our secret
    const [access, refresh] = [SEED_ROOMS_ACCESS_TOKEN, SEED_ROOMS_REFRESH_TOKEN].map((token) =>
      jwt.sign(jwt.decode(token) as object, HMAC_SECRET, { noTimestamp: true }),
    );
    const now = createVerifier({ secret: HMAC_SECRET }); // the real clock: 2019 is long past
    expect(await rejectionOf(now.verify(bearer(access!)))).toMatchObject({ reason: "expired", code: 450 });
    expect(await rejectionOf(now.verify(bearer(refresh!)))).toMatchObject({ reason: "wrong_token_use", code: 450 });
  });

  it("allows clockTolerance seconds of leeway on exp and nbf", async () => {
    const lenient = createVerifier({ ...base, clockTolerance: 30 });
    await expect(lenient.verify(bearer(signHmac(roomsAccessClaims({ exp: NOW - 29 }))))).resolves.toHaveProperty(
      "expiresIn",
      0,
    );
    await expect(lenient.verify(bearer(signHmac(roomsAccessClaims({ nbf: NOW + 29 }))))).resolves.toBeDefined();
    expect(await rejectionOf(lenient.verify(bearer(signHmac(roomsAccessClaims({ exp: NOW - 30 })))))).toMatchObject({
      reason: "expired",
    });
  });

  it("matches an aud list when any member is allowed, and an audience list", async () => {
    const many = createVerifier({ ...base, audience: ["x", ROOMS_AUDIENCE] });
    await expect(
      many.verify(bearer(signHmac(roomsAccessClaims({ aud: ["y", ROOMS_AUDIENCE] })))),
    ).resolves.toBeDefined();
    expect(await rejectionOf(many.verify(bearer(signHmac(roomsAccessClaims({ aud: ["y", "z"] })))))).toMatchObject({
      reason: "wrong_audience",
    });
  });

  it("checks requiredClaims by value and by predicate", async () => {
    const strict = createVerifier({
      ...base,
      requiredClaims: { token_type: "access", uid: (uid) => typeof uid === "number" && uid > 0 },
    });
    await expect(strict.verify(bearer(signHmac(roomsAccessClaims())))).resolves.toBeDefined();
    expect(await rejectionOf(strict.verify(bearer(signHmac(roomsAccessClaims({ uid: 0 })))))).toMatchObject({
      reason: "claim_mismatch",
    });
    expect(
      await rejectionOf(strict.verify(bearer(signHmac(roomsAccessClaims({ token_type: undefined }))))),
    ).toMatchObject({ reason: "claim_mismatch" });
  });

  it("reads scopes from scopeClaim, as a list", async () => {
    const custom = createVerifier({ ...base, scopeClaim: "permissions" });
    const auth = await custom.verify(bearer(signHmac(roomsAccessClaims({ permissions: ["read", "write"] }))));
    expect(auth.scopes).toEqual(["read", "write"]);
  });

  it("refuses a revoked token, and turns a throwing isRevoked into a 980", async () => {
    const revoking = createVerifier({ ...base, isRevoked: (claims) => Promise.resolve(claims.jti === "gone") });
    expect(await rejectionOf(revoking.verify(bearer(signHmac(roomsAccessClaims({ jti: "gone" })))))).toMatchObject({
      reason: "revoked",
      code: 450,
    });
    await expect(revoking.verify(bearer(signHmac(roomsAccessClaims())))).resolves.toBeDefined();
    const broken = createVerifier({ ...base, isRevoked: () => { throw new Error("db down"); } }); // prettier-ignore
    expect(await rejectionOf(broken.verify(bearer(signHmac(roomsAccessClaims()))))).toMatchObject({
      reason: "internal_error",
      code: 980,
      status: 503,
    });
  });

  it("turns a throwing requiredClaims predicate into a 980, not a pass", async () => {
    const broken = createVerifier({ ...base, requiredClaims: { uid: () => { throw new Error("bug"); } } }); // prettier-ignore
    expect(await rejectionOf(broken.verify(bearer(signHmac(roomsAccessClaims()))))).toMatchObject({
      reason: "internal_error",
      code: 980,
    });
  });

  it("keeps claims as null-prototype objects and leaves Object.prototype alone", async () => {
    const token = signHmac({
      ...roomsAccessClaims(),
      ["__proto__"]: { polluted: true },
      constructor: { prototype: { polluted: true } },
    });
    const hostile = rawToken(
      { typ: "JWT", alg: "HS256" },
      '{"exp":9999999999,"iss":"Rooms-API-Internal-Access","aud":"' +
        ROOMS_AUDIENCE +
        '","__proto__":{"polluted":true}}',
    );
    await rejectionOf(verifier.verify(bearer(hostile))); // bad signature, but it was parsed
    const auth = await verifier.verify(bearer(token));
    expect(Object.getPrototypeOf(auth.claims)).toBeNull();
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("honours maxTokenLength", async () => {
    const short = createVerifier({ ...base, maxTokenLength: 100 });
    expect(await rejectionOf(short.verify(bearer(signHmac(roomsAccessClaims()))))).toMatchObject({
      reason: "token_too_long",
      code: 400,
    });
  });

  it("uses getToken and credentialsRequired in authenticate", async () => {
    const token = signHmac(roomsAccessClaims());
    const fromCookie = createVerifier<Claims, { cookie?: string }>({ ...base, getToken: (req) => req.cookie });
    await expect(fromCookie.authenticate({ cookie: token }, undefined)).resolves.toHaveProperty("token", token);
    expect(await rejectionOf(fromCookie.authenticate({}, bearer(token)))).toMatchObject({
      reason: "missing_token",
      code: 401,
    });
    const optional = createVerifier({ ...base, credentialsRequired: false });
    await expect(optional.authenticate({}, undefined)).resolves.toBeUndefined();
    expect(await rejectionOf(optional.authenticate({}, "Bearer x.y.z"))).toMatchObject({ code: 450 });
    const throwing = createVerifier({ ...base, getToken: () => { throw new Error("cookie parser bug"); } }); // prettier-ignore
    expect(await rejectionOf(throwing.authenticate({}, undefined))).toMatchObject({
      reason: "internal_error",
      code: 980,
    });
  });
});
