import { isUtf8 } from "node:buffer";
import { TokenError } from "../errors/errors.js";
import type { Claims, JwtHeader } from "../types.js";

/** A JWS compact serialisation split and parsed, not yet verified. */
export interface DecodedJwt {
  readonly header: JwtHeader;
  /** Claims whose registered types are checked; `exp` is checked for presence later. */
  readonly payload: Partial<Claims>;
  /** At most what the payload's objects, lists, strings and numbers take on the heap, in bytes. */
  readonly heapBytes: number;
  /** The first two segments and the dot between them: what the signature signs. */
  readonly signingInput: string;
  readonly signature: string;
  /** The signature's bytes, decoded once here (its spelling checked), for the signature layer. */
  readonly signatureBytes: Buffer;
}

/**
 * Splits a token into its three segments and parses header and payload into deeply frozen
 * null-prototype objects, so no claim named `__proto__` can ever reach a prototype. Every segment
 * must be canonical base64url: a token holding any other character is refused here (the caller
 * tells a space, two tokens, apart), with no pass of a regular expression over the whole token.
 * @throws TokenError `malformed_token` for anything that is not a well-formed JWS with a JSON
 * object header and payload whose registered claims have their registered types.
 */
export function decodeJwt(token: string): DecodedJwt {
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0 || token.includes(".", second + 1)) throw malformed("the token does not have three segments");
  const header = readHeader(token.slice(0, first));
  const { object: payload, heapBytes } = parseSegment(token.slice(first + 1, second));
  checkRegisteredClaims(payload);
  const signature = token.slice(second + 1);
  const signatureBytes = signatureOf(signature);
  return { header, payload, heapBytes, signingInput: token.slice(0, second), signature, signatureBytes };
}

// The header of every token an API sees is one of a handful (its alg, kid and typ): each is parsed
// and checked once, and kept frozen. Bounded; full, it starts over, so junk headers cost only time.
const HEADERS = new Map<string, JwtHeader>();
const MAX_HEADERS = 64;
const MAX_KEPT_HEADER_CHARS = 512;

function readHeader(segment: string): JwtHeader {
  const known = HEADERS.get(segment);
  if (known !== undefined) return known; // the very text of a header checked before
  if (!SEGMENT_CHARS.test(segment)) throw malformed("the header holds a character that is not base64url");
  const header = parseSegment(segment).object;
  // RFC 7515 §4.1.11: no extension is understood here, so any `crit` makes the token invalid
  if ("crit" in header) throw malformed("the header has a crit parameter");
  if (typeof header["alg"] !== "string") throw malformed("the header has no alg");
  if (header["kid"] !== undefined && typeof header["kid"] !== "string") {
    throw malformed("the header's kid is not a string");
  }
  if (segment.length <= MAX_KEPT_HEADER_CHARS) {
    if (HEADERS.size >= MAX_HEADERS) HEADERS.clear();
    HEADERS.set(segment, header as JwtHeader);
  }
  return header as JwtHeader;
}

// Each base64url character's value, by character code (-1: not in the alphabet)
const SIXTETS = new Int8Array(128).fill(-1);
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
for (let value = 0; value < ALPHABET.length; value++) SIXTETS[ALPHABET.charCodeAt(value)] = value;

/**
 * Whether a segment of base64url characters is the one spelling of its bytes (RFC 7515 §2, RFC 4648
 * §3.5): no padding, a length that is not 4n+1 (no byte string has one), and the bits of the last
 * character past the last byte zero. A lenient decoder reads 16 spellings of one signature's last
 * character alike; anything keyed on the token text could be sidestepped with the other 15.
 */
export function isCanonical(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const last = SIXTETS[segment.charCodeAt(segment.length - 1)] ?? -1;
  // 2 characters carry 1 byte (4 bits left over), 3 carry 2 (2 bits left over)
  return last >= 0 && (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

const SEGMENT_CHARS = /^[A-Za-z0-9_-]+$/;

// Node's decoder skips what is not in its alphabets (a space, "=", "!", any non-ASCII): a segment
// decodes to fewer bytes than its length promises. It reads "+" and "/" (base64's) as well: those
// are looked for, which costs a fraction of a regular expression's pass.
function allDecoded(segment: string, decoded: number): boolean {
  return decoded === Math.floor((segment.length * 3) / 4) && !segment.includes("+") && !segment.includes("/");
}

// the signature's bytes, once its characters and spelling are checked; an empty signature is well
// spelled (`alg: none`'s, refused by the allow-list with its own reason)
function signatureOf(segment: string): Buffer {
  const bytes = Buffer.from(segment, "base64url");
  if (!isCanonical(segment) || !allDecoded(segment, bytes.length)) {
    throw malformed("the signature is not canonical base64url");
  }
  return bytes;
}

// Segments are decoded into one buffer, reused: the decode is synchronous, so no two overlap. A
// longer segment (a `maxTokenLength` raised past the default) gets a buffer of its own.
const scratch = Buffer.allocUnsafeSlow(8192);

function parseSegment(segment: string): Settled {
  if (segment.length === 0 || !isCanonical(segment)) throw malformed("a segment is not canonical base64url");
  const most = Math.ceil((segment.length * 3) / 4);
  const bytes = most <= scratch.length ? scratch : Buffer.allocUnsafe(most);
  const length = bytes.write(segment, "base64url");
  if (!allDecoded(segment, length)) throw malformed("a segment holds a character that is not base64url");
  const text = bytes.toString("utf8", 0, length);
  // the decoder turns every ill-formed sequence into U+FFFD: only then is the check worth making
  if (text.includes("\uFFFD") && !isUtf8(bytes.subarray(0, length))) throw malformed("a segment is not UTF-8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // not JSON.parse's own error: V8 quotes the input in it, raw, CR/LF included
    throw malformed("a segment is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw malformed("a segment is not a JSON object");
  }
  // as many UTF-8 bytes as UTF-16 units: all ASCII, so every string takes a byte a character
  const tally = { bytes: 0, charBytes: length === text.length ? 1 : 2 };
  const object = settle(value, tally, 1) as Record<string, unknown>;
  return { object, heapBytes: tally.bytes };
}

interface Settled {
  readonly object: Record<string, unknown>;
  readonly heapBytes: number;
}

// What settled JSON takes on V8's heap at most (64-bit, without pointer compression, as Node
// ships), measured by `npm run bench`'s memory rows against tokens made to be expensive.
const HEAP = {
  // an object's header, the four fields `{}` has inside, and a property array's header and slack
  object: 96,
  // an object of more than FEW_KEYS keys: its own hidden class and descriptors as well
  wideObject: 256,
  // a field and its slack, and, when no object had these keys in this order before, the hidden
  // class and descriptor the key adds (plus the key's characters): claims keyed by ids pay it
  property: 128,
  // a list's header and its elements' header
  list: 64,
  element: 8,
  // a string's header and alignment (plus its characters)
  string: 24,
  // a number outside the small integers
  number: 16,
} as const;

// Up to this many keys, an object is copied into a fresh one without a prototype; V8 keeps such
// objects fast and shares one hidden class between all objects of a shape, frozen or not (setting
// the parsed object's prototype instead costs a new hidden class on every freeze: twice the time).
// Past it, copying would fall back to a dictionary, slower than giving the parsed object its own.
const FEW_KEYS = 16;

/** The deepest a header or payload may nest: the object itself is level 1. */
const MAX_DEPTH = 32;

// JSON.parse defines `__proto__` as an own data property; objects without a prototype mean no
// later copy or lookup can ever treat it as the prototype link, and nothing is inherited
// (`constructor`, `toString`). Every object and list is frozen on the same walk: the claims are
// shared by every request the token cache answers, so a handler that pushed to `cognito:groups`
// would otherwise change what the next request with that token sees. The walk also adds up what
// the result holds, for the token cache's byte budget.
function settle(value: object, tally: { bytes: number; readonly charBytes: number }, depth: number): object {
  // JSON.parse nests as deep as it is told; this walk would overflow the stack (a 503) past a few
  // thousand levels. No real token nests more than a few: refuse it before the signature is read.
  if (depth > MAX_DEPTH) throw malformed(`the claims nest deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    const list = value as unknown[];
    tally.bytes += HEAP.list + HEAP.element * list.length;
    for (let i = 0; i < list.length; i++) {
      const member = list[i];
      if (member !== null && typeof member === "object") list[i] = settle(member, tally, depth + 1);
      else tally.bytes += primitiveBytes(member, tally.charBytes);
    }
    return Object.freeze(list);
  }
  const parsed = value as Record<string, unknown>;
  const keys = Object.keys(parsed);
  const wide = keys.length > FEW_KEYS;
  // the prototype goes first: past it, `settled.__proto__ = ...` could only ever define a field
  const settled = Object.setPrototypeOf(wide ? parsed : {}, null) as Record<string, unknown>;
  tally.bytes += wide ? HEAP.wideObject : HEAP.object;
  for (const key of keys) {
    const member = parsed[key];
    tally.bytes += HEAP.property + key.length * tally.charBytes;
    // an ordinary [[Set]]: with no prototype there is no `__proto__` setter to reach
    if (member !== null && typeof member === "object") settled[key] = settle(member, tally, depth + 1);
    else {
      if (!wide) settled[key] = member;
      tally.bytes += primitiveBytes(member, tally.charBytes);
    }
  }
  return Object.freeze(settled);
}

function primitiveBytes(value: unknown, charBytes: number): number {
  if (typeof value === "string") return HEAP.string + value.length * charBytes;
  return typeof value === "number" ? HEAP.number : 0;
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
