import { TokenError } from "./errors.js";

// RFC 6750 §2.1 with the token limited to what a JWS compact serialisation can hold:
// base64url segments and dots. One or more spaces after the case-insensitive scheme.
const BEARER = /^bearer +([A-Za-z0-9_.-]+)$/i;
// Room for the scheme and its spaces, so an absurd header is refused before the regex reads it.
const SCHEME_ALLOWANCE = 64;

/**
 * Reads the token out of an `Authorization` header value, or the list of them a request carried.
 * @throws TokenError `missing_token` when there is no header, `token_too_long`, or
 * `malformed_header` when the value is not `Bearer <one token>` or the header came more than once.
 */
export function readBearer(header: string | readonly string[] | undefined, maxTokenLength: number): string {
  let value: unknown = header;
  if (Array.isArray(header)) {
    if (header.length === 0) throw new TokenError("missing_token");
    // several Authorization headers: a proxy in front may have read another one than we would
    if (header.length > 1) throw new TokenError("malformed_header");
    value = header[0];
  }
  if (value === undefined) throw new TokenError("missing_token");
  if (typeof value !== "string") throw new TokenError("malformed_header");
  if (value.length > maxTokenLength + SCHEME_ALLOWANCE) throw new TokenError("token_too_long");
  const token = BEARER.exec(value)?.[1];
  if (token === undefined) throw new TokenError("malformed_header");
  return checkTokenLength(token, maxTokenLength);
}

/** Refuses a token longer than `maxTokenLength` characters, before any parsing. */
export function checkTokenLength(token: string, maxTokenLength: number): string {
  if (token.length > maxTokenLength) throw new TokenError("token_too_long");
  return token;
}
