import { createSecretKey, type KeyObject } from "node:crypto";
import { ConfigError } from "../errors/errors.js";
import { minSecretBytes } from "../token/signature.js";

/**
 * Turns an HMAC secret into a `KeyObject` once, at construction. Refused: anything but a string
 * or a Buffer, a secret of only whitespace (a string's or a Buffer's alike), and one shorter than
 * the longest hash among `algorithms` unless `allowShort` (then a warning is emitted).
 */
export function secretKey(secret: unknown, algorithms: readonly string[], allowShort: boolean): KeyObject {
  let bytes: Buffer;
  if (typeof secret === "string") bytes = Buffer.from(secret, "utf8");
  else if (Buffer.isBuffer(secret))
    bytes = Buffer.from(secret); // a copy: later changes to the caller's Buffer do not reach the key
  else throw new ConfigError("`secret` must be a string or a Buffer.");
  if (bytes.toString("latin1").trim() === "") throw new ConfigError("`secret` is empty or only whitespace.");
  // RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for "HS256")
  // or larger MUST be used with this algorithm."
  const needed = Math.max(...algorithms.map(minSecretBytes));
  if (bytes.length < needed) {
    const message =
      `\`secret\` is ${bytes.length} bytes; ${algorithms.join(", ")} needs at least ${needed} (RFC 7518 §3.2), ` +
      `or it can be guessed offline from any one token. Make one with \`openssl rand -base64 ${needed}\`.`;
    if (!allowShort) throw new ConfigError(`${message} Migrating from a short secret? See \`allowShortSecret\`.`);
    process.emitWarning(`bearer-gate: ${message}`, { code: "BEARER_GATE_SHORT_SECRET" });
  }
  return createSecretKey(bytes);
}
