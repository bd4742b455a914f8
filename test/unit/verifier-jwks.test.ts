import { createPublicKey, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { createVerifier, type VerifierOptions } from "bearer-gate";
import { eventually, rejectionOf } from "../helpers.js";
import { JwksServer, makeKey, type TestKey } from "../fixtures/jwks-server.js";
import { SEED_COGNITO_ACCESS_TOKEN, SEED_POOL_ID } from "../fixtures/seeds.js";
import {
  CLIENT_ID,
  cognitoAccessClaims,
  cognitoIdClaims,
  fixedClock,
  HMAC_SECRET,
  NOW,
  rawToken,
  signHmac,
  signRs256,
} from "../fixtures/tokens.js";

const POOL_ISSUER = `https://cognito-idp.sa-east-1.amazonaws.com/${SEED_POOL_ID}`;
const bearer = (token: string): string => `Bearer ${token}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let server: JwksServer;
let key: TestKey;

beforeAll(async () => {
  key = makeKey();
  server = await JwksServer.start([key]);
});
afterAll(() => server.close());
beforeEach(() => {
  server.keys = [key];
  server.mode = "serve";
  server.requests = 0;
});

function cognito(options: Partial<VerifierOptions> = {}): VerifierOptions {
  return {
    cognito: { userPoolId: SEED_POOL_ID, clientId: CLIENT_ID },
    jwksUri: server.jwksUri,
    clock: fixedClock,
    ...options,
  };
}

describe("a Cognito verifier on a local JWKS", () => {
  it("resolves a Cognito access token, accepting both of the pool's issuers", async () => {
    const verifier = createVerifier(cognito());
    const auth = await verifier.verify(bearer(signRs256(cognitoAccessClaims(POOL_ISSUER), key)));
    expect(auth.scopes).toEqual(["aws.cognito.signin.user.admin", "posts", "users"]);
    expect(auth.expiresIn).toBe(3600);
    expect(auth.claims.username).toBe("carlospecanha2@outlook.com");
    const replicated = POOL_ISSUER.replace("cognito-idp", "issuer-cognito-idp");
    await expect(verifier.verify(bearer(signRs256(cognitoAccessClaims(replicated), key)))).resolves.toBeDefined();
    expect(server.requests).toBe(1);
  });

  it.each<[string, () => string, string]>([
    [
      "another pool's token",
      () => signRs256(cognitoAccessClaims("https://cognito-idp.sa-east-1.amazonaws.com/sa-east-1_other"), key),
      "wrong_issuer",
    ],
    [
      "another app client's token",
      () => signRs256(cognitoAccessClaims(POOL_ISSUER, { client_id: "someone-else" }), key),
      "wrong_audience",
    ],
    ["an ID token", () => signRs256(cognitoIdClaims(POOL_ISSUER), key), "wrong_token_use"],
    [
      "a token without token_use",
      () => signRs256(cognitoAccessClaims(POOL_ISSUER, { token_use: undefined }), key),
      "wrong_token_use",
    ],
    ["an expired token", () => signRs256(cognitoAccessClaims(POOL_ISSUER, { exp: NOW - 1 }), key), "expired"],
    [
      "a token signed by another key with the same kid",
      () => signRs256(cognitoAccessClaims(POOL_ISSUER), makeKey({ kid: key.kid })),
      "invalid_signature",
    ],
    [
      "an HS256 token whose secret is the RSA public key (PEM)",
      () => hmacWithPublicKey("pem"),
      "algorithm_not_allowed",
    ],
    [
      "an HS256 token whose secret is the RSA public key (JWK)",
      () => hmacWithPublicKey("jwk"),
      "algorithm_not_allowed",
    ],
    [
      "an alg none token",
      () => rawToken({ alg: "none", kid: key.kid }, cognitoAccessClaims(POOL_ISSUER), ""),
      "algorithm_not_allowed",
    ],
    [
      "an RS512 token when only RS256 is allowed",
      () => rawToken({ alg: "RS512", kid: key.kid }, cognitoAccessClaims(POOL_ISSUER)),
      "algorithm_not_allowed",
    ],
    ["the seed's Cognito token (unknown key, expired)", () => SEED_COGNITO_ACCESS_TOKEN, "unknown_key"],
  ])("refuses %s with a 450", async (_name, token, reason) => {
    expect(await rejectionOf(createVerifier(cognito()).verify(bearer(token())))).toMatchObject({
      reason,
      code: 450,
      status: 401,
    });
  });

  it("accepts ID tokens when tokenUse asks for them, matching the client against aud", async () => {
    const ids = createVerifier(cognito({ cognito: { userPoolId: SEED_POOL_ID, clientId: CLIENT_ID, tokenUse: "id" } }));
    await expect(ids.verify(bearer(signRs256(cognitoIdClaims(POOL_ISSUER), key)))).resolves.toBeDefined();
    expect(
      await rejectionOf(ids.verify(bearer(signRs256(cognitoIdClaims(POOL_ISSUER, { aud: "x" }), key)))),
    ).toMatchObject({ reason: "wrong_audience" });
    expect(await rejectionOf(ids.verify(bearer(signRs256(cognitoAccessClaims(POOL_ISSUER), key))))).toMatchObject({
      reason: "wrong_token_use",
    });
    const any = createVerifier(cognito({ cognito: { userPoolId: SEED_POOL_ID, tokenUse: "any" } }));
    await expect(any.verify(bearer(signRs256(cognitoIdClaims(POOL_ISSUER), key)))).resolves.toBeDefined();
    await expect(any.verify(bearer(signRs256(cognitoAccessClaims(POOL_ISSUER), key)))).resolves.toBeDefined();
  });

  it("lets an explicit issuer override the pool's", async () => {
    const verifier = createVerifier(cognito({ issuer: server.issuer }));
    await expect(verifier.verify(bearer(signRs256(cognitoAccessClaims(server.issuer), key)))).resolves.toBeDefined();
    expect(await rejectionOf(verifier.verify(bearer(signRs256(cognitoAccessClaims(POOL_ISSUER), key))))).toMatchObject({
      reason: "wrong_issuer",
    });
  });
});

// the classic HMAC/RSA confusion: the attacker signs with the public key as an HMAC secret
function hmacWithPublicKey(form: "pem" | "jwk"): string {
  const publicKey = createPublicKey({ key: key.jwk as JsonWebKey, format: "jwk" });
  const secret = form === "pem" ? String(publicKey.export({ type: "spki", format: "pem" })) : JSON.stringify(key.jwk);
  return signHmac(cognitoAccessClaims(POOL_ISSUER), secret, "HS256", { kid: key.kid });
}

describe("key selection", () => {
  it("verifies a token without kid only when the key set holds exactly one key", async () => {
    const token = signRs256(cognitoAccessClaims(POOL_ISSUER), key, { kid: null });
    await expect(createVerifier(cognito()).verify(bearer(token))).resolves.toBeDefined();
    server.keys = [key, makeKey()];
    expect(await rejectionOf(createVerifier(cognito()).verify(bearer(token)))).toMatchObject({
      reason: "unknown_key",
      code: 450,
    });
  });

  it("picks up a rotated key after one refetch", async () => {
    const verifier = createVerifier(cognito());
    await verifier.verify(bearer(signRs256(cognitoAccessClaims(POOL_ISSUER), key)));
    const next = makeKey();
    server.keys = [key, next];
    await expect(verifier.verify(bearer(signRs256(cognitoAccessClaims(POOL_ISSUER), next)))).resolves.toBeDefined();
    expect(server.requests).toBe(2);
  });

  it("stops verifying with a removed key once the expired set has been refreshed", async () => {
    const verifier = createVerifier(cognito({ jwksFetch: { cacheMaxAgeMs: 50 } }));
    const token = signRs256(cognitoAccessClaims(POOL_ISSUER), key);
    await verifier.verify(bearer(token));
    server.keys = [makeKey()];
    await sleep(60);
    // the set past its age serves while its refresh runs; once the refresh is in, the key is gone
    await eventually(async () =>
      expect(await rejectionOf(verifier.verify(bearer(token)))).toMatchObject({ reason: "unknown_key" }),
    );
    expect(server.requests).toBeLessThanOrEqual(3); // the first set, its refresh, one refetch for the lost kid
  });

  it("refetches for unknown kids no more often than refetchesPerMinute allows", async () => {
    const verifier = createVerifier(cognito({ jwksFetch: { refetchesPerMinute: 3 } }));
    const attempts = Array.from({ length: 20 }, (_, i) =>
      rejectionOf(verifier.verify(bearer(signRs256(cognitoAccessClaims(POOL_ISSUER), key, { kid: `k${i}` })))),
    );
    for (const error of await Promise.all(attempts)) expect(error).toMatchObject({ reason: "unknown_key" });
    expect(server.requests).toBeLessThanOrEqual(4);
    await expect(verifier.verify(bearer(signRs256(cognitoAccessClaims(POOL_ISSUER), key)))).resolves.toBeDefined();
  });

  it("fetches the key set once for many concurrent requests at a cold start", async () => {
    const verifier = createVerifier(cognito());
    const token = signRs256(cognitoAccessClaims(POOL_ISSUER), key);
    await Promise.all(Array.from({ length: 100 }, () => verifier.verify(bearer(token))));
    expect(server.requests).toBe(1);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["an RSA key under 2048 bits", makeKey({ bits: 1024, kid: "weak" }).jwk, "unknown_key"],
    ["a key for encryption", { ...makeKey({ kid: "enc" }).jwk, use: "enc" }, "unknown_key"],
    [
      "a symmetric key",
      { kty: "oct", k: Buffer.from(HMAC_SECRET).toString("base64url"), kid: "oct", alg: "HS256" },
      "unknown_key",
    ],
    [
      "an EC key",
      { ...generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" }), kid: "ec" },
      "algorithm_not_allowed",
    ],
    ["a key whose alg is RS512", { ...makeKey({ kid: "rs512" }).jwk, alg: "RS512" }, "algorithm_not_allowed"],
  ])("never uses %s for an RS256 token", async (_name, jwk, reason) => {
    server.keys = [key, { kid: String(jwk["kid"]), privateKey: key.privateKey, jwk }];
    const token = signRs256(cognitoAccessClaims(POOL_ISSUER), key, { kid: String(jwk["kid"]) });
    expect(await rejectionOf(createVerifier(cognito()).verify(bearer(token)))).toMatchObject({ reason, code: 450 });
  });
});

describe("key-server faults answer 503, never 401", () => {
  const token = (): string => signRs256(cognitoAccessClaims(POOL_ISSUER), key);

  it.each(["hang", "error500", "html", "empty", "huge", "redirect"] as const)(
    "when the key server answers %s",
    async (mode) => {
      server.mode = mode;
      const verifier = createVerifier(cognito({ jwksFetch: { timeoutMs: 300 } }));
      expect(await rejectionOf(verifier.verify(bearer(token())))).toMatchObject({
        reason: "keys_unavailable",
        code: 980,
        status: 503,
      });
    },
  );

  it("when the key server is down, and recovers by itself once it is back", async () => {
    await server.down();
    const verifier = createVerifier(cognito());
    try {
      expect(await rejectionOf(verifier.verify(bearer(token())))).toMatchObject({
        reason: "keys_unavailable",
        code: 980,
      });
      expect(await rejectionOf(verifier.verify(bearer(token())))).toMatchObject({ reason: "keys_unavailable" });
    } finally {
      await server.up();
    }
    await sleep(1100); // a failed download is retried at most once a second
    await expect(verifier.verify(bearer(token()))).resolves.toBeDefined();
  });

  it("keeps using cached keys past their age while the key server fails (stale-if-error)", async () => {
    const verifier = createVerifier(cognito({ jwksFetch: { cacheMaxAgeMs: 50, staleIfErrorMs: 60_000 } }));
    await verifier.verify(bearer(token()));
    server.mode = "error500";
    await sleep(60);
    for (let i = 0; i < 5; i++) await expect(verifier.verify(bearer(token()))).resolves.toBeDefined();
    await eventually(() => expect(server.requests).toBe(2)); // the refresh, in the background
    await sleep(50);
    for (let i = 0; i < 5; i++) await expect(verifier.verify(bearer(token()))).resolves.toBeDefined();
    expect(server.requests).toBe(2); // one failed refresh, then no more for a second
  });

  it.each([
    ["1", "AQ"],
    ["2", "Ag"],
    ["65536", "AQAA"],
  ])("uses no RSA key whose public exponent is %s (not an odd number >= 3)", async (_e, e) => {
    server.keys = [{ ...key, jwk: { ...key.jwk, e } }];
    const verifier = createVerifier(cognito());
    const refused = await rejectionOf(verifier.verify(bearer(token())));
    expect(refused).toMatchObject({ reason: "keys_unavailable" });
    expect(String(refused.cause)).toContain("no usable signing key");
  });

  it("answers an unknown kid with 503 when the refetch it causes fails", async () => {
    const verifier = createVerifier(cognito());
    await verifier.verify(bearer(token()));
    server.mode = "error500";
    const rotated = signRs256(cognitoAccessClaims(POOL_ISSUER), makeKey());
    expect(await rejectionOf(verifier.verify(bearer(rotated)))).toMatchObject({
      reason: "keys_unavailable",
      code: 980,
    });
    await expect(verifier.verify(bearer(token()))).resolves.toBeDefined(); // known keys keep working
  });
});
