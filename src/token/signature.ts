import { constants, createHmac, timingSafeEqual, verify as verifyWith, type KeyObject } from "node:crypto";
import { TokenError } from "../errors/errors.js";

/** One row of the table: how an algorithm verifies, and the one kind of key it accepts. */
interface AlgorithmRow {
  /** HMAC, RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA or EdDSA. */
  readonly scheme: "hmac" | "pkcs1" | "pss" | "ecdsa" | "eddsa";
  /** The hash; `null` for EdDSA, which hashes inside the signature scheme (RFC 8037 §3.1). */
  readonly digest: "sha256" | "sha384" | "sha512" | null;
  /** `KeyObject.asymmetricKeyType`s accepted (`"secret"`: an HMAC key). */
  readonly keyTypes: readonly string[];
  /** ECDSA: the curve (RFC 7518 §3.4) and the length of `r || s` in bytes. */
  readonly curve?: string;
  readonly signatureBytes?: number;
  /** The hash's length in bytes: an HMAC key's least length (RFC 7518 §3.2), PSS's salt length (§3.5). */
  readonly hashBytes?: number;
}

/**
 * Every algorithm bearer-gate verifies: the JWS algorithms of RFC 7518 and RFC 8037 (`EdDSA`), and
 * the fully-specified `Ed25519` and `Ed448` of RFC 9864. `none` is not one of them.
 */
export const ALGORITHMS = {
  HS256: { scheme: "hmac", digest: "sha256", keyTypes: ["secret"], hashBytes: 32 },
  HS384: { scheme: "hmac", digest: "sha384", keyTypes: ["secret"], hashBytes: 48 },
  HS512: { scheme: "hmac", digest: "sha512", keyTypes: ["secret"], hashBytes: 64 },
  RS256: { scheme: "pkcs1", digest: "sha256", keyTypes: ["rsa"] },
  RS384: { scheme: "pkcs1", digest: "sha384", keyTypes: ["rsa"] },
  RS512: { scheme: "pkcs1", digest: "sha512", keyTypes: ["rsa"] },
  PS256: { scheme: "pss", digest: "sha256", keyTypes: ["rsa", "rsa-pss"], hashBytes: 32 },
  PS384: { scheme: "pss", digest: "sha384", keyTypes: ["rsa", "rsa-pss"], hashBytes: 48 },
  PS512: { scheme: "pss", digest: "sha512", keyTypes: ["rsa", "rsa-pss"], hashBytes: 64 },
  ES256: { scheme: "ecdsa", digest: "sha256", keyTypes: ["ec"], curve: "prime256v1", signatureBytes: 64 },
  ES384: { scheme: "ecdsa", digest: "sha384", keyTypes: ["ec"], curve: "secp384r1", signatureBytes: 96 },
  ES512: { scheme: "ecdsa", digest: "sha512", keyTypes: ["ec"], curve: "secp521r1", signatureBytes: 132 },
  EdDSA: { scheme: "eddsa", digest: null, keyTypes: ["ed25519", "ed448"] },
  Ed25519: { scheme: "eddsa", digest: null, keyTypes: ["ed25519"] },
  Ed448: { scheme: "eddsa", digest: null, keyTypes: ["ed448"] },
} as const satisfies Record<string, AlgorithmRow>;

/** An algorithm the verifier can allow. */
export type Algorithm = keyof typeof ALGORITHMS;

const ROWS: Readonly<Record<string, AlgorithmRow>> = ALGORITHMS;

/** The HMAC algorithms, for a `secret`; every other one is for a public key. */
export const HMAC_ALGORITHMS: readonly string[] = Object.keys(ROWS).filter((alg) => ROWS[alg]?.scheme === "hmac");
export const PUBLIC_KEY_ALGORITHMS: readonly string[] = Object.keys(ROWS).filter((alg) => ROWS[alg]?.scheme !== "hmac");

/** The least HMAC key length of an algorithm, in bytes (RFC 7518 §3.2); 0 for others. */
export function minSecretBytes(alg: string): number {
  const row = ROWS[alg];
  return row?.scheme === "hmac" ? (row.hashBytes ?? 0) : 0;
}

/** Whether `key` is the one kind of key `alg` verifies with (and, for ECDSA, on its curve). */
export function keyFits(alg: string, key: KeyObject): boolean {
  const row = ROWS[alg];
  if (row === undefined) return false;
  const type = key.type === "secret" ? "secret" : (key.asymmetricKeyType ?? "");
  if (!row.keyTypes.includes(type)) return false;
  return row.curve === undefined || key.asymmetricKeyDetails?.namedCurve === row.curve;
}

/** Whether a key's declared `alg` (a JWK's) and a token's name one signature scheme on one key. */
export function sameAlgorithm(declared: string, alg: string): boolean {
  // EdDSA (RFC 8037) and Ed25519 / Ed448 (RFC 9864) name the same signatures; the key's type decides
  return declared === alg || (ROWS[declared]?.scheme === "eddsa" && ROWS[alg]?.scheme === "eddsa");
}

/** Checks a signature over a signing input with a key, for one algorithm. */
export type SignatureVerifier = (signingInput: string, signature: Buffer, key: KeyObject) => boolean;

/**
 * One verifier per algorithm of the allow-list, built once at construction on Node's one-shot
 * primitives (`crypto.verify`; HMAC with `timingSafeEqual`). A key of another kind than the
 * algorithm's never verifies. The signature segment is canonical base64url (`decodeJwt` checked).
 */
export function signatureVerifiers(algorithms: Iterable<string>): ReadonlyMap<string, SignatureVerifier> {
  return new Map([...algorithms].map((alg): [string, SignatureVerifier] => [alg, verifierFor(alg)]));
}

function verifierFor(alg: string): SignatureVerifier {
  const row = ROWS[alg];
  if (row === undefined) throw new TypeError(`no such algorithm: ${alg}`); // options.ts checked the list
  const { scheme, digest } = row;
  const fits = (key: KeyObject): boolean => keyFits(alg, key);
  switch (scheme) {
    case "hmac":
      return (input, signature, key) => {
        if (!fits(key)) return false;
        const expected = createHmac(digest as string, key)
          .update(input)
          .digest();
        // timingSafeEqual needs equal lengths; the length of an HMAC is no secret
        return signature.length === expected.length && timingSafeEqual(signature, expected);
      };
    case "pkcs1":
      return (input, signature, key) => fits(key) && verifyWith(digest, ascii(input), key, signature);
    case "pss": {
      // RFC 7518 §3.5: MGF1 with the same hash, and a salt as long as the hash
      const saltLength = row.hashBytes as number;
      return (input, signature, key) =>
        fits(key) &&
        verifyWith(digest, ascii(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    }
    case "ecdsa": {
      // RFC 7518 §3.4: r || s, each as long as the curve's order; never DER
      const length = row.signatureBytes as number;
      return (input, signature, key) => {
        if (!fits(key)) return false;
        return (
          signature.length === length && verifyWith(digest, ascii(input), { key, dsaEncoding: "ieee-p1363" }, signature)
        );
      };
    }
    case "eddsa":
      return (input, signature, key) => fits(key) && verifyWith(null, ascii(input), key, signature);
  }
}

// the signing input is base64url and a dot: one byte a character
function ascii(input: string): Buffer {
  return Buffer.from(input, "latin1");
}

/**
 * Checks the signature of a token already split by `decodeJwt`, with the verifier of the one
 * algorithm the header names and the allow-list accepted. Claims are checked elsewhere, against the
 * verifier's own clock.
 * @throws TokenError `invalid_signature`
 */
export function verifySignature(
  verify: SignatureVerifier,
  signingInput: string,
  signature: Buffer,
  key: KeyObject,
): void {
  let valid: boolean;
  try {
    valid = verify(signingInput, signature, key);
  } catch (cause) {
    // a signature OpenSSL cannot even parse: no signature to accept
    throw new TokenError("invalid_signature", undefined, { cause });
  }
  if (!valid)
    throw new TokenError("invalid_signature", undefined, { cause: new Error("the signature does not match") });
}
