import { isUtf8 } from "node:buffer";
import { TokenError } from "./errors.js";
import type { Claims, JwtHeader } from "./types.js";

/** A JWS compact serialisation split and parsed, not yet verified. */
export interface DecodedJwt {
  readonly header: JwtHeader;
  /** Claims whose registered types are checked; `exp` is checked for presence later. */
  readonly payload: Partial<Claims>;
  /** The first two segments and the dot between them: what the signature signs. */
  readonly signingInput: string;
  readonly signature: string;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;

/**
 * Splits a token into its three segments and parses header and payload into deeply frozen
 * null-prototype objects, so no claim named `__proto__` can ever reach a prototype.
 * @throws TokenError `malformed_token` for anything that is not a well-formed JWS with a JSON
 * object header and payload whose registered claims have their registered types.
 */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split(".");
  if (parts.length !== 3) throw malformed("the token does not have three segments");
  const [rawHeader, rawPayload, signature] = parts as [string, string, string];
  if (!SEGMENT.test(signature)) throw malformed("the signature is not base64url");
  const header = parseSegment(rawHeader);
  // RFC 7515 §4.1.11: no extension is understood here, so any `crit` makes the token invalid
  if ("crit" in header) throw malformed("the header has a crit parameter");
  if (typeof header["alg"] !== "string") throw malformed("the header has no alg");
  if (header["kid"] !== undefined && typeof header["kid"] !== "string") {
    throw malformed("the header's kid is not a string");
  }
  const payload = parseSegment(rawPayload);
  checkRegisteredClaims(payload);
  const signingInput = token.slice(0, rawHeader.length + 1 + rawPayload.length);
  return { header: header as JwtHeader, payload, signingInput, signature };
}

function parseSegment(segment: string): Record<string, unknown> {
  // base64url without padding; a length of 4n+1 cannot come from any byte string
  if (segment.length === 0 || !SEGMENT.test(segment) || segment.length % 4 === 1) {
    throw malformed("a segment is not base64url");
  }
  const bytes = Buffer.from(segment, "base64url");
  if (!isUtf8(bytes)) throw malformed("a segment is not UTF-8");
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    // not JSON.parse's own error: V8 quotes the input in it, raw, CR/LF included
    throw malformed("a segment is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw malformed("a segment is not a JSON object");
  }
  return settle(value as Record<string, unknown>);
}

// JSON.parse defines `__proto__` as an own data property; dropping the prototype of every parsed
// object means no later copy or lookup can ever treat it as the prototype link. (A reviver would
// do the same, at three times the cost of the parse.) Every object and list is frozen on the same
// walk: the claims are shared by every request the token cache answers, so a handler that pushed
// to `cognito:groups` would otherwise change what the next request with that token sees.
function settle<T extends object>(value: T): T {
  if (!Array.isArray(value)) Object.setPrototypeOf(value, null);
  for (const key in value) {
    const member: unknown = value[key];
    if (member !== null && typeof member === "object") settle(member);
  }
  return Object.freeze(value);
}

const STRING_CLAIMS = ["iss", "sub", "jti"] as const;
const NUMERIC_DATE_CLAIMS = ["exp", "nbf", "iat"] as const;

// RFC 7519 §4.1: each registered claim has one type; a token that breaks it is malformed, which
// is what lets `Claims` type them without a cast in the user's code.
function checkRegisteredClaims(payload: Record<string, unknown>): void {
  for (const name of STRING_CLAIMS) {
    if (payload[name] !== undefined && typeof payload[name] !== "string") {
      throw malformed(`the ${name} claim is not a string`);
    }
  }
  for (const name of NUMERIC_DATE_CLAIMS) {
    const value = payload[name];
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value))) {
      throw malformed(`the ${name} claim is not a number`);
    }
  }
  const aud = payload["aud"];
  if (
    aud !== undefined &&
    typeof aud !== "string" &&
    !(Array.isArray(aud) && aud.every((member) => typeof member === "string"))
  ) {
    throw malformed("the aud claim is neither a string nor a list of strings");
  }
}

function malformed(detail: string): TokenError {
  return new TokenError("malformed_token", undefined, { cause: new Error(detail) });
}
