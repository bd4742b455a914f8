// Keys and tokens the benchmark shares with its HTTP app processes.
import { createHmac, createPrivateKey, createPublicKey, sign } from "node:crypto";
import { readFileSync, existsSync, writeFileSync, mkdirSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";

export const ISSUER = "https://issuer.bench.local/";
export const AUDIENCE = "bench-api";
export const SECRET = "a-benchmark-secret-of-32-bytes-!!";
export const KID = "bench-key";

const KEY_FILE = "node_modules/.cache/bearer-gate-bench/rsa.pem";

/** One RSA-2048 key, kept between runs so the HTTP app processes and the parent share it. */
export function rsaKey() {
  if (!existsSync(KEY_FILE)) {
    mkdirSync("node_modules/.cache/bearer-gate-bench", { recursive: true });
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(KEY_FILE, privateKey.export({ type: "pkcs8", format: "pem" }));
  }
  const privateKey = createPrivateKey(readFileSync(KEY_FILE));
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    pem: publicKey.export({ type: "spki", format: "pem" }),
    jwk: { ...publicKey.export({ format: "jwk" }), kid: KID, alg: "RS256", use: "sig" },
  };
}

const segment = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const hex = (i, length) => (i * 2654435761).toString(16).padStart(length, "0").slice(-length);
const uuid = (i, salt) => `${hex(i + salt, 8)}-${hex(i, 4)}-4${hex(i + 1, 3)}-9${hex(i + 2, 3)}-${hex(i + salt, 12)}`;

/** A token valid for an hour; `i` makes it distinct. */
export function makeToken(alg, i, key) {
  const now = Math.floor(Date.now() / 1000);
  return signed(alg, key, {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: `user-${i}`,
    scope: "posts users",
    iat: now,
    exp: now + 3600,
    jti: `jti-${i}`,
  });
}

/**
 * A token shaped like a Cognito access token (the claims of the API's seed, and a user's groups),
 * about 1,000 characters signed with RS256; with `aud` too, so every contender checks the same.
 */
export function makeCognitoToken(alg, i, key) {
  const now = Math.floor(Date.now() / 1000);
  return signed(alg, key, {
    sub: uuid(i, 1),
    "cognito:groups": ["customers", "beta-testers"],
    iss: ISSUER,
    aud: AUDIENCE,
    version: 2,
    client_id: "25t08lphv07b3fvjgajq3ls1kp",
    origin_jti: uuid(i, 2),
    event_id: uuid(i, 3),
    token_use: "access",
    scope: "aws.cognito.signin.user.admin posts users",
    auth_time: now - 100,
    exp: now + 3600,
    iat: now,
    jti: uuid(i, 4),
    username: `user-${i}@example.com`,
  });
}

/** A P-256 (ES256) or Ed25519 (EdDSA) key made for this run, with its JWK. */
export function curveKey(alg) {
  const { privateKey, publicKey } =
    alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  return {
    privateKey,
    publicKey,
    pem: publicKey.export({ type: "spki", format: "pem" }),
    jwk: { ...publicKey.export({ format: "jwk" }), kid: `${KID}-${alg}`, alg, use: "sig" },
  };
}

/** Any claims, signed with the benchmark's secret. */
export const signHs256 = (claims) => signed("HS256", undefined, claims);

function signed(alg, key, claims) {
  const header = alg === "HS256" ? { alg, typ: "JWT" } : { kid: alg === "RS256" ? KID : `${KID}-${alg}`, alg };
  const input = `${segment(header)}.${segment(claims)}`;
  const data = Buffer.from(input);
  const signature =
    alg === "HS256"
      ? createHmac("sha256", SECRET).update(input).digest()
      : alg === "ES256"
        ? sign("sha256", data, { key: key.privateKey, dsaEncoding: "ieee-p1363" })
        : sign(alg === "EdDSA" ? null : "sha256", data, key.privateKey);
  return `${input}.${signature.toString("base64url")}`;
}
