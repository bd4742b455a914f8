import { createHash, createPublicKey, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { makeKey, type TestKey } from "../fixtures/jwks-server.js";
import { BODY_400, BODY_450, BODY_980, INVALID_REQUEST, invalid } from "../fixtures/catalogue.js";
import { cognitoAccessClaims, HMAC_SECRET, NOW, rawToken, signHmac, signRs256 } from "../fixtures/tokens.js";
import { POOL_ISSUER, type Case, type CaseWorld } from "./cases.js";

/**
 * Keys the world's key server also serves, none of which may ever verify an RS256 token. Two share
 * the world key's modulus: one with the exponent 1, one whose key_ops says it is not for verifying.
 */
export function unusableKeys(world: TestKey): TestKey[] {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const fake = (kid: string, jwk: Record<string, unknown>): TestKey => ({
    kid,
    privateKey: ec.privateKey,
    jwk: { ...jwk, kid },
  });
  return [
    makeKey({ bits: 1024, kid: "weak" }),
    makeKey({ kid: "enc", jwk: { use: "enc" } }),
    makeKey({ kid: "rs512-only", jwk: { alg: "RS512" } }),
    fake("oct", { kty: "oct", k: Buffer.from(HMAC_SECRET).toString("base64url"), alg: "HS256" }),
    fake("ec", ec.publicKey.export({ format: "jwk" })),
    fake("e-one", { ...world.jwk, e: "AQ" }),
    fake("sign-only", { ...world.jwk, key_ops: ["sign"] }),
  ];
}

// With e = 1 an RSA "signature" is its own message: the EMSA-PKCS1-v1_5 encoding of the hash
// (RFC 8017 §9.2), which anyone can compute without any private key.
function forgedForExponentOne(w: CaseWorld): string {
  const input = rawToken({ alg: "RS256", kid: "e-one" }, claims()).split(".").slice(0, 2).join(".");
  const digestInfo = Buffer.concat([
    Buffer.from("3031300d060960864801650304020105000420", "hex"), // SHA-256's DigestInfo prefix
    createHash("sha256").update(input).digest(),
  ]);
  const modulusBytes = Buffer.from(String(w.key.jwk["n"]), "base64url").length;
  const padding = Buffer.alloc(modulusBytes - 3 - digestInfo.length, 0xff);
  const encoded = Buffer.concat([Buffer.from([0, 1]), padding, Buffer.from([0]), digestInfo]);
  return bearer(`${input}.${encoded.toString("base64url")}`);
}

const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> =>
  cognitoAccessClaims(POOL_ISSUER, { tenant: "acme", ...overrides });
const bearer = (token: string): string => `Bearer ${token}`;
const signed = (w: CaseWorld, overrides: Record<string, unknown> = {}, header = {}): string =>
  bearer(signRs256(claims(overrides), w.key, header));
/** Raw JSON text as the payload, signed with the world's key. */
const signedText = (w: CaseWorld, json: string): string => bearer(signRs256(json, w.key));
const jsonOf = (overrides: Record<string, unknown>): string => JSON.stringify(claims(overrides)).slice(0, -1);

// the classic HMAC/RSA confusion: the attacker signs with the public key as an HMAC secret
function hmacWithPublicKey(w: CaseWorld, form: "pem" | "jwk"): string {
  const publicKey = createPublicKey({ key: w.key.jwk as JsonWebKey, format: "jwk" });
  const secret = form === "pem" ? String(publicKey.export({ type: "spki", format: "pem" })) : JSON.stringify(w.key.jwk);
  return bearer(signHmac(claims(), secret, "HS256", { kid: w.key.kid }));
}

const MALFORMED = { status: 401, body: BODY_450, challenge: invalid("The access token is malformed") };
const ALG = {
  status: 401,
  body: BODY_450,
  challenge: invalid("The access token is signed with an algorithm that is not allowed"),
};
const UNKNOWN_KEY = {
  status: 401,
  body: BODY_450,
  challenge: invalid("The access token is signed with an unknown key"),
};
const BAD_SIGNATURE = { status: 401, body: BODY_450, challenge: invalid("The access token signature is invalid") };
const EXPIRED = { status: 401, body: BODY_450, challenge: invalid("The access token expired") };
const HEADER = { status: 401, body: BODY_400, challenge: INVALID_REQUEST };

/** Hostile tokens and headers: each is refused with exactly this response, and no handler runs. */
export const HOSTILE: readonly Case[] = [
  // algorithms
  ...["none", "None", "NONE", "nOnE"].flatMap((alg): Case[] => [
    { name: `alg ${alg} with no signature`, authorization: () => bearer(rawToken({ alg }, claims(), "")), ...ALG },
    {
      name: `alg ${alg} with a signature`,
      authorization: (w) => bearer(rawToken({ alg, kid: w.key.kid }, claims())),
      ...ALG,
    },
  ]),
  {
    name: "an HS256 token whose secret is the RSA public key (PEM)",
    authorization: (w) => hmacWithPublicKey(w, "pem"),
    ...ALG,
  },
  {
    name: "an HS256 token whose secret is the RSA public key (JWK)",
    authorization: (w) => hmacWithPublicKey(w, "jwk"),
    ...ALG,
  },
  {
    name: "an RS256 token sent to an HMAC verifier",
    authorization: signed,
    options: () => ({ secret: HMAC_SECRET }),
    ...ALG,
  },
  { name: "an RS512 token (outside the allow-list)", authorization: (w) => signed(w, {}, { alg: "RS512" }), ...ALG },
  {
    name: "an ES256 token (outside the allow-list)",
    authorization: () => bearer(rawToken({ alg: "ES256", kid: "ec" }, claims())),
    ...ALG,
  },
  {
    name: "a header alg that disagrees with the JWK's alg",
    authorization: (w) => signed(w, {}, { kid: "rs512-only" }),
    ...ALG,
  },
  // key selection
  {
    name: "no kid while the key set has several keys",
    authorization: (w) => signed(w, {}, { kid: null }),
    ...UNKNOWN_KEY,
  },
  { name: "an unknown kid", authorization: (w) => signed(w, {}, { kid: "nobody" }), ...UNKNOWN_KEY },
  { name: "a very long kid", authorization: (w) => signed(w, {}, { kid: "k".repeat(5000) }), ...UNKNOWN_KEY },
  {
    name: "a kid with path and query characters",
    authorization: (w) => signed(w, {}, { kid: "../../jwks.json?kid=x#y" }),
    ...UNKNOWN_KEY,
  },
  ...(["jku", "x5u"] as const).map((name): Case => ({
    name: `a ${name} header pointing at the attacker's key set`,
    authorization: (w) => bearer(signRs256(claims(), w.attackerKey, { [name]: w.attacker.jwksUri })),
    ...UNKNOWN_KEY,
  })),
  {
    name: "an embedded jwk header with the attacker's key",
    authorization: (w) => bearer(signRs256(claims(), w.attackerKey, { jwk: w.attackerKey.jwk })),
    ...UNKNOWN_KEY,
  },
  {
    name: "an embedded jwk header reusing our kid",
    authorization: (w) =>
      bearer(signRs256(claims(), w.attackerKey, { kid: w.key.kid, jwk: { ...w.attackerKey.jwk, kid: w.key.kid } })),
    ...BAD_SIGNATURE,
  },
  {
    name: "an x5c header with the attacker's chain",
    authorization: (w) => bearer(signRs256(claims(), w.attackerKey, { x5c: ["MIIBfake"] })),
    ...UNKNOWN_KEY,
  },
  { name: "a crit header", authorization: (w) => signed(w, {}, { crit: ["exp"] }), ...MALFORMED },
  // unusable keys whose kid matches
  { name: "an RSA key under 2048 bits", authorization: (w) => signed(w, {}, { kid: "weak" }), ...UNKNOWN_KEY },
  { name: "a key for encryption", authorization: (w) => signed(w, {}, { kid: "enc" }), ...UNKNOWN_KEY },
  { name: "a symmetric (oct) key", authorization: (w) => signed(w, {}, { kid: "oct" }), ...UNKNOWN_KEY },
  { name: "an EC key for an RS256 token", authorization: (w) => signed(w, {}, { kid: "ec" }), ...ALG },
  { name: "a token forged for an RSA key with exponent 1", authorization: forgedForExponentOne, ...UNKNOWN_KEY },
  {
    name: "a key whose key_ops leaves out verify",
    authorization: (w) => signed(w, {}, { kid: "sign-only" }),
    ...UNKNOWN_KEY,
  },
  // claims
  { name: "exp as a string", authorization: (w) => signed(w, { exp: String(NOW + 60) }), ...MALFORMED },
  { name: "a negative exp", authorization: (w) => signed(w, { exp: -1 }), ...EXPIRED },
  { name: "an enormous exp", authorization: (w) => signed(w, { exp: 1e20 }), ...MALFORMED },
  {
    name: "an exp that overflows to Infinity",
    authorization: (w) => signedText(w, `${jsonOf({})},"exp":1e400}`),
    ...MALFORMED,
  },
  { name: "no exp", authorization: (w) => signed(w, { exp: undefined }), ...MALFORMED },
  { name: "nbf as a string", authorization: (w) => signed(w, { nbf: String(NOW) }), ...MALFORMED },
  {
    name: "an enormous nbf",
    authorization: (w) => signed(w, { nbf: 1e20 }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token is not valid yet"),
  },
  { name: "iat as a string", authorization: (w) => signed(w, { iat: String(NOW) }), ...MALFORMED },
  {
    name: "an iat a second past the clock tolerance (it would pass a log-out-everywhere cutoff)",
    authorization: (w) => signed(w, { iat: NOW + 31 }),
    options: (w) => ({ ...w.options, clockTolerance: 30 }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token is not valid yet"),
  },
  {
    name: "any token, when the clock option reads undefined",
    authorization: (w) => signed(w),
    options: (w) => ({ ...w.options, clock: () => undefined as unknown as number }),
    status: 503,
    body: BODY_980,
    challenge: undefined,
  },
  {
    name: "any token, when the clock option reads NaN",
    authorization: (w) => signed(w),
    options: (w) => ({ ...w.options, clock: () => Number.NaN }),
    status: 503,
    body: BODY_980,
    challenge: undefined,
  },
  { name: "iss as a number", authorization: (w) => signed(w, { iss: 42 }), ...MALFORMED },
  { name: "iss as a list", authorization: (w) => signed(w, { iss: [POOL_ISSUER] }), ...MALFORMED },
  { name: "aud as a number", authorization: (w) => signed(w, { aud: 42 }), ...MALFORMED },
  { name: "aud as an object", authorization: (w) => signed(w, { aud: { a: 1 } }), ...MALFORMED },
  { name: "scope as a number", authorization: (w) => signed(w, { scope: 7 }), ...MALFORMED },
  { name: "scope as an object", authorization: (w) => signed(w, { scope: { posts: true } }), ...MALFORMED },
  { name: "a payload that is a JSON array", authorization: (w) => signedText(w, "[1,2,3]"), ...MALFORMED },
  { name: "a payload that is a JSON string", authorization: (w) => signedText(w, '"access"'), ...MALFORMED },
  { name: "a payload that is null", authorization: (w) => signedText(w, "null"), ...MALFORMED },
  {
    name: "duplicate exp keys, the last one past (the last one counts, RFC 7519 §4)",
    authorization: (w) => signedText(w, `${jsonOf({})},"exp":${NOW - 10}}`),
    ...EXPIRED,
  },
  // shape
  { name: "two segments", authorization: (w) => signed(w).split(".").slice(0, 2).join("."), ...MALFORMED },
  { name: "four segments", authorization: (w) => `${signed(w)}.e30`, ...MALFORMED },
  { name: "empty segments", authorization: () => "Bearer ..", ...MALFORMED },
  { name: "an empty payload segment", authorization: (w) => signed(w).replace(/\.[^.]+\./, ".."), ...MALFORMED },
  {
    name: "a segment that is not base64url JSON",
    authorization: (w) => signed(w).replace(/\.[^.]+\./, ".AAAA."),
    ...MALFORMED,
  },
  { name: "a segment of impossible length", authorization: (w) => signed(w).replace(/\./, "A."), ...MALFORMED },
  { name: "base64 padding", authorization: (w) => `${signed(w)}==`, ...HEADER },
  { name: "standard base64 characters", authorization: (w) => signed(w).replace(/\./, "+/."), ...HEADER },
  { name: "whitespace inside the token", authorization: (w) => signed(w).replace(".", ". "), ...HEADER },
  { name: "a Latin-1 character", authorization: (w) => `${signed(w)}\u00e9`, ...HEADER },
  { name: "Bearer alone", authorization: () => "Bearer", ...HEADER },
  { name: "two tokens", authorization: (w) => `${signed(w)} ${signed(w).slice(7)}`, ...HEADER },
  { name: "the Basic scheme", authorization: () => "Basic dXNlcjpwYXNz", ...HEADER },
  { name: "the Digest scheme", authorization: () => 'Digest username="u", realm="r"', ...HEADER },
  { name: "a token with no scheme", authorization: (w) => signed(w).slice(7), ...HEADER },
  { name: "two Authorization headers", authorization: (w) => [signed(w), signed(w)], ...HEADER },
];

/** Odd but valid requests that must pass. */
export const ODD_BUT_VALID: readonly { name: string; authorization: (w: CaseWorld) => string }[] = [
  { name: "a lower-case scheme", authorization: (w) => `bearer ${signed(w).slice(7)}` },
  { name: "several spaces after the scheme", authorization: (w) => `Bearer    ${signed(w).slice(7)}` },
  { name: "a fractional exp", authorization: (w) => signed(w, { exp: NOW + 100.5 }) },
  { name: "a negative nbf and a fractional iat", authorization: (w) => signed(w, { nbf: -5, iat: NOW - 0.5 }) },
];
