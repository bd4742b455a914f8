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

/** A token valid for an hour; `i` makes it distinct. */
export function makeToken(alg, i, key) {
  const now = Math.floor(Date.now() / 1000);
  const header = alg === "HS256" ? { alg, typ: "JWT" } : { alg, typ: "JWT", kid: KID };
  const claims = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: `user-${i}`,
    scope: "posts users",
    iat: now,
    exp: now + 3600,
    jti: `jti-${i}`,
  };
  const input = `${segment(header)}.${segment(claims)}`;
  const signature =
    alg === "HS256"
      ? createHmac("sha256", SECRET).update(input).digest("base64url")
      : sign("sha256", Buffer.from(input), key.privateKey).toString("base64url");
  return `${input}.${signature}`;
}
