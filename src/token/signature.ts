import type { KeyObject } from "node:crypto";
import jwa from "jwa";
import { TokenError } from "../errors/errors.js";

/** Checks a signature over a signing input with a key, for one algorithm. */
export type SignatureVerifier = (signingInput: string, signature: string, key: KeyObject) => boolean;

/**
 * One `jwa` verifier (the JWS algorithms layer under `jws` and `jsonwebtoken`) per algorithm of
 * the allow-list, built once at construction; `none` is never on the list, so never built.
 */
export function signatureVerifiers(algorithms: Iterable<string>): ReadonlyMap<string, SignatureVerifier> {
  return new Map(
    [...algorithms].map((alg): [string, SignatureVerifier] => {
      // jwa's types admit string keys only; it takes KeyObjects as they are (its checkIs*Key)
      const { verify } = jwa(alg as Parameters<typeof jwa>[0]) as unknown as { verify: SignatureVerifier };
      return [alg, verify];
    }),
  );
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
  signature: string,
  key: KeyObject,
): void {
  let valid: boolean;
  try {
    valid = verify(signingInput, signature, key);
  } catch (cause) {
    // an ES signature of the wrong length, a key of the wrong type: no signature to accept
    throw new TokenError("invalid_signature", undefined, { cause });
  }
  if (!valid)
    throw new TokenError("invalid_signature", undefined, { cause: new Error("the signature does not match") });
}
