import { createSecretKey, type KeyObject } from "node:crypto";
import { ConfigError } from "../errors.js";

/** Turns an HMAC secret into a `KeyObject` once, at construction; an empty secret is refused. */
export function secretKey(secret: unknown): KeyObject {
  if (typeof secret === "string") {
    if (secret.trim() === "") throw new ConfigError("`secret` is empty or only whitespace.");
    return createSecretKey(Buffer.from(secret, "utf8"));
  }
  if (Buffer.isBuffer(secret)) {
    if (secret.length === 0) throw new ConfigError("`secret` is an empty Buffer.");
    return createSecretKey(Buffer.from(secret)); // a copy: later changes to the caller's Buffer do not reach the key
  }
  throw new ConfigError("`secret` must be a string or a Buffer.");
}
