import type { KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { TokenError } from "./errors.js";

/**
 * Checks the token's signature with `key` under exactly one algorithm, the one the header names and
 * the allow-list already accepted. Claims are checked elsewhere, against the verifier's own clock.
 * @throws TokenError `invalid_signature`
 */
export function verifySignature(token: string, key: KeyObject, algorithm: jwt.Algorithm): void {
  try {
    jwt.verify(token, key, { algorithms: [algorithm], ignoreExpiration: true, ignoreNotBefore: true });
  } catch (cause) {
    throw new TokenError("invalid_signature", undefined, { cause });
  }
}
