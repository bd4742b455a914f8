import { createPublicKey, KeyObject, type JsonWebKey } from "node:crypto";
import { ConfigError, quote, TokenError } from "../errors/errors.js";
import { keyFits, PUBLIC_KEY_ALGORITHMS, sameAlgorithm } from "../token/signature.js";
import type { JwtHeader } from "../types.js";

/** A public key as users give it: a PEM string, a JWK object, or a `KeyObject`. */
export type PublicKeyInput = string | JsonWebKey | KeyObject;

/** A verifying key, with the `kid` and `alg` its JWK declared (if any). */
export interface VerifyingKey {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

const MIN_RSA_BITS = 2048;

/**
 * Never verify with a key anyone can sign for: an RSA modulus under 2048 bits, or a public exponent
 * that is even or below 3 (with e = 1 a signature is just the padded hash, which anyone can make);
 * and only the key types some algorithm verifies with (no X25519, DSA or DH key).
 */
export function isStrong(key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (type === "rsa" || type === "rsa-pss") {
    const { modulusLength, publicExponent } = key.asymmetricKeyDetails ?? {};
    return (
      modulusLength !== undefined &&
      modulusLength >= MIN_RSA_BITS &&
      publicExponent !== undefined &&
      publicExponent >= 3n &&
      publicExponent % 2n === 1n
    );
  }
  return PUBLIC_KEY_ALGORITHMS.some((alg) => keyFits(alg, key));
}

/**
 * The key that verifies a token with this header: the one its `kid` names; without a `kid`, only
 * when exactly one key fits the algorithm (no doubt which key was meant).
 */
export function findKey(keys: readonly VerifyingKey[], header: JwtHeader): VerifyingKey | undefined {
  if (header.kid !== undefined) return keys.find((entry) => entry.kid === header.kid);
  const candidates = keys.filter((entry) => fits(entry, header.alg));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** The key, when it may verify the header's algorithm; else `algorithm_not_allowed`. */
export function checkedKey(entry: VerifyingKey, header: JwtHeader): KeyObject {
  if (!fits(entry, header.alg)) {
    throw new TokenError("algorithm_not_allowed", undefined, {
      cause: new Error(`key ${quote(entry.kid)} cannot verify ${quote(header.alg)}`),
    });
  }
  return entry.key;
}

function fits(entry: VerifyingKey, alg: string): boolean {
  return (entry.alg === undefined || sameAlgorithm(entry.alg, alg)) && keyFits(alg, entry.key);
}

/**
 * `publicKey` checked once, at construction: each a PEM string, a JWK object or a `KeyObject`, and
 * public. A private key given by mistake is refused (and kept nowhere); so are a secret key, a weak
 * RSA key and a key type no algorithm verifies with.
 */
export function publicKeys(input: unknown): readonly VerifyingKey[] {
  const list: readonly unknown[] = Array.isArray(input) ? input : [input];
  if (list.length === 0) throw new ConfigError("`publicKey` is an empty list.");
  const keys = list.map((item, at) => publicKey(item, list.length === 1 ? "publicKey" : `publicKey[${at}]`));
  const kids = keys.map((entry) => entry.kid).filter((kid) => kid !== undefined);
  if (new Set(kids).size !== kids.length) throw new ConfigError("`publicKey`: two keys share a `kid`.");
  return Object.freeze(keys);
}

function publicKey(item: unknown, name: string): VerifyingKey {
  if (item instanceof KeyObject) {
    if (item.type !== "public") throw notPublic(name, item.type === "private" ? "a private key" : "a secret key");
    return checked({ kid: undefined, alg: undefined, key: item }, name);
  }
  if (typeof item === "string") {
    // createPublicKey would derive the public half of a private key without a word: refuse it first
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(item)) throw notPublic(name, "a private key");
    return checked({ kid: undefined, alg: undefined, key: parse(() => createPublicKey(item), name, "PEM") }, name);
  }
  if (item !== null && typeof item === "object" && !Array.isArray(item)) {
    const jwk = item as JsonWebKey & { kid?: unknown; alg?: unknown };
    if (jwk.kty === "oct") throw notPublic(name, "a symmetric (oct) key: give it as `secret`");
    if (jwk.d !== undefined) throw notPublic(name, "a private JWK (it has `d`)");
    if (jwk.kid !== undefined && typeof jwk.kid !== "string")
      throw new ConfigError(`\`${name}.kid\` must be a string.`);
    if (jwk.alg !== undefined && typeof jwk.alg !== "string")
      throw new ConfigError(`\`${name}.alg\` must be a string.`);
    const key = parse(() => createPublicKey({ key: jwk, format: "jwk" }), name, "JWK");
    return checked({ kid: jwk.kid, alg: jwk.alg, key }, name);
  }
  throw new ConfigError(`\`${name}\` must be a PEM string, a JWK object or a KeyObject.`);
}

function parse(make: () => KeyObject, name: string, format: string): KeyObject {
  try {
    return make();
  } catch (error) {
    throw new ConfigError(`\`${name}\` is not a ${format} public key Node can read (${(error as Error).message}).`);
  }
}

function checked(entry: VerifyingKey, name: string): VerifyingKey {
  if (!isStrong(entry.key)) {
    const details = entry.key.asymmetricKeyDetails;
    const what =
      entry.key.asymmetricKeyType === "rsa" || entry.key.asymmetricKeyType === "rsa-pss"
        ? `an RSA key of ${String(details?.modulusLength)} bits with exponent ${String(details?.publicExponent)} (at least 2048 bits and an odd exponent of at least 3)`
        : `a ${String(entry.key.asymmetricKeyType)} key${details?.namedCurve === undefined ? "" : ` on ${details.namedCurve}`}, which no algorithm verifies with`;
    throw new ConfigError(`\`${name}\` is ${what}.`);
  }
  if (entry.alg !== undefined && !(PUBLIC_KEY_ALGORITHMS.includes(entry.alg) && keyFits(entry.alg, entry.key))) {
    throw new ConfigError(`\`${name}\` says alg ${JSON.stringify(entry.alg)}, which its key cannot verify.`);
  }
  return entry;
}

function notPublic(name: string, what: string): ConfigError {
  return new ConfigError(`\`${name}\` is ${what}: give the public key only (\`openssl pkey -pubout\`).`);
}

/**
 * The algorithms a verifier with these keys allows when `algorithms` is not given: one per key type,
 * RS256 for RSA, PS256 for RSA-PSS, ES256/384/512 by curve, EdDSA and Ed25519 (or Ed448) for EdDSA keys.
 */
export function defaultAlgorithms(keys: readonly VerifyingKey[]): string[] {
  const defaults = keys.flatMap(({ key }) => {
    if (key.asymmetricKeyType === "rsa") return ["RS256"];
    if (key.asymmetricKeyType === "rsa-pss") return ["PS256"];
    if (key.asymmetricKeyType === "ed25519") return ["EdDSA", "Ed25519"];
    if (key.asymmetricKeyType === "ed448") return ["EdDSA", "Ed448"];
    return ["ES256", "ES384", "ES512"].filter((alg) => keyFits(alg, key));
  });
  return [...new Set(defaults)];
}

/** Keys given in the options: resolved at once, with no download. */
export class StaticKeys {
  readonly #keys: readonly VerifyingKey[];

  constructor(keys: readonly VerifyingKey[]) {
    this.#keys = keys;
  }

  resolve(header: JwtHeader): KeyObject {
    const entry = findKey(this.#keys, header);
    if (entry === undefined) {
      throw new TokenError("unknown_key", undefined, {
        cause: new Error(`no configured public key for kid ${quote(header.kid)}`),
      });
    }
    return checkedKey(entry, header);
  }
}
