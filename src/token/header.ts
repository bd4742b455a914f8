import { TokenError } from "../errors/errors.js";

// RFC 6750 §2.1: the case-insensitive scheme, one or more spaces, then the token
const SCHEME = "bearer";
const SPACE = 0x20;
/** A JWS compact serialisation holds base64url segments and dots, nothing else. */
export const TOKEN_CHARS = /^[A-Za-z0-9_.-]+$/;
// Room for the scheme and its spaces, so an absurd header is refused before anything reads it.
const SCHEME_ALLOWANCE = 64;

/**
 * Reads the token out of an `Authorization` header value, or the list of them a request carried.
 * Its characters are checked by `checkTokenChars`, which a cache hit (a token known good) skips.
 * @throws TokenError `missing_token` when there is no header, `token_too_long`, or
 * `malformed_header` when the value is not `Bearer <token>` or the header came more than once.
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
  const start = tokenStart(value);
  if (start < 0 || start === value.length) throw new TokenError("malformed_header");
  return checkTokenLength(value.slice(start), maxTokenLength);
}

/**
 * Reads an `Authorization` header that may carry `Bearer <token>` or, RFC 9449 §7.1, `DPoP <token>`
 * (scheme names are case-insensitive, RFC 9110 §11.1).
 * @throws TokenError as `readBearer`
 */
export function readCredentials(
  header: string | readonly string[] | undefined,
  maxTokenLength: number,
): { readonly scheme: "bearer" | "dpop"; readonly token: string } {
  const value = typeof header === "string" ? header : header?.length === 1 ? header[0] : undefined;
  if (typeof value === "string" && value.length <= maxTokenLength + SCHEME_ALLOWANCE) {
    const start = tokenStart(value, DPOP);
    if (start > 0 && start < value.length) {
      return { scheme: "dpop", token: checkTokenLength(value.slice(start), maxTokenLength) };
    }
  }
  return { scheme: "bearer", token: readBearer(header, maxTokenLength) };
}

const DPOP = "dpop";

// where the token starts after the scheme and its spaces, or -1; read by character, as it runs on
// every request (a letter's code with 0x20 set is its lower case; no other character's is)
function tokenStart(value: string, scheme = SCHEME): number {
  for (let i = 0; i < scheme.length; i++) {
    if ((value.charCodeAt(i) | SPACE) !== scheme.charCodeAt(i)) return -1;
  }
  let at = scheme.length;
  while (value.charCodeAt(at) === SPACE) at++;
  return at === scheme.length ? -1 : at;
}

/**
 * Every `Authorization` header a Node request carried, from its `rawHeaders`: HTTP/1.1's
 * `IncomingMessage` and HTTP/2's `Http2ServerRequest` both have them (HTTP/2 has no
 * `headersDistinct`), and unlike `headers` they keep a repeated header, which `readBearer` refuses.
 * @returns `undefined` for none, the value for one, the list for several.
 */
export function readAuthorization(request: { readonly rawHeaders: readonly string[] }): string | string[] | undefined {
  return readHeaderValues(request, "authorization");
}

/**
 * Whether a single `Authorization` value names another scheme than Bearer (`Basic …`, `Digest …`):
 * no bearer credentials at all, which `credentialsRequired: false` lets through anonymously, as
 * express-jwt does. A malformed Bearer value (`Bearer`, `Bearer a b`) is not another scheme.
 */
export function isOtherScheme(header: string | readonly string[] | undefined, dpop = false): boolean {
  if (typeof header !== "string" || header === "") return false;
  const end = header.indexOf(" ");
  const scheme = (end < 0 ? header : header.slice(0, end)).toLowerCase();
  return scheme !== SCHEME && !(dpop && scheme === DPOP);
}

/**
 * Every value of one header a Node request carried (`rawHeaders`), by its lower-case name: like
 * `readAuthorization`, a repeated header is kept, to be refused.
 */
export function readHeaderValues(
  request: { readonly rawHeaders: readonly string[] },
  name: string,
): string | string[] | undefined {
  const raw = request.rawHeaders;
  let found: string | string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i];
    if (key?.length !== name.length || key.toLowerCase() !== name) continue;
    const value = raw[i + 1] ?? "";
    found = found === undefined ? value : [...(typeof found === "string" ? [found] : found), value];
  }
  return found;
}

/** Refuses a token holding anything but base64url characters and dots (a space: two tokens). */
export function checkTokenChars(token: string): void {
  if (!TOKEN_CHARS.test(token)) throw new TokenError("malformed_header");
}

/** Refuses a token longer than `maxTokenLength` characters, before any parsing. */
export function checkTokenLength(token: string, maxTokenLength: number): string {
  if (token.length > maxTokenLength) throw new TokenError("token_too_long");
  return token;
}
