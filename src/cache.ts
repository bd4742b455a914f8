import { ConfigError } from "./errors.js";
import type { Claims } from "./types.js";

/** Bounds of the verified-token cache; `tokenCache: false` turns it off. */
export interface TokenCacheOptions {
  /** Most tokens kept. Default 10000. */
  maxEntries?: number | undefined;
  /** Most memory the entries are estimated to take, in bytes. Default 16777216 (16 MiB). */
  maxBytes?: number | undefined;
}

/** A verification that can be reused while `stamp` still matches the key set. */
export interface CachedVerification {
  readonly token: string;
  readonly claims: Claims;
  readonly scopes: readonly string[];
  /** The claims' `exp`, `nbf` and `iat`, kept as plain numbers for the checks every hit makes. */
  readonly exp: number;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  readonly stamp: number;
  readonly size: number;
}

const DEFAULTS = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 };
// Map entry, the entry object, the frozen scope list and the claims' hidden classes: a generous
// constant on top of the token's and the claims' own sizes.
const ENTRY_OVERHEAD_BYTES = 512;
// Entries are found by the signature's last characters and then compared whole, so a lookup
// hashes 32 characters instead of the whole token; a collision is only ever a miss.
const BUCKET_CHARS = 32;

/**
 * Verified tokens, matched on their whole text, bounded in count and estimated bytes, oldest
 * inserted out first. Entries are only ever reused under the same key-set stamp; the verifier
 * re-applies the clock, the required claims and `isRevoked` on every hit.
 */
export class TokenCache {
  readonly #entries = new Map<string, CachedVerification>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: TokenCacheOptions) {
    this.#maxEntries = bound(options.maxEntries, "tokenCache.maxEntries", DEFAULTS.maxEntries);
    this.#maxBytes = bound(options.maxBytes, "tokenCache.maxBytes", DEFAULTS.maxBytes);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The bytes the entries are estimated to take. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The verification of `token` under key-set `stamp`; a negative stamp (keys past their age) never hits. */
  get(token: string, stamp: number): CachedVerification | undefined {
    if (stamp < 0) return undefined;
    const bucket = token.slice(-BUCKET_CHARS);
    const entry = this.#entries.get(bucket);
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.stamp === stamp) return entry;
    this.#delete(bucket, entry); // verified under keys that changed since
    return undefined;
  }

  /** Keeps a verification; `now` in seconds, to drop entries already past their `exp`. */
  set(token: string, claims: Claims, scopes: readonly string[], stamp: number, now: number): void {
    // the token (one byte a character in V8's one-byte strings) and its claims as objects, which
    // take about twice the characters of their JSON: measured by `npm run bench`'s memory row
    const size = token.length * 3 + ENTRY_OVERHEAD_BYTES;
    if (stamp < 0 || size > this.#maxBytes) return;
    const bucket = token.slice(-BUCKET_CHARS);
    const previous = this.#entries.get(bucket);
    if (previous !== undefined) this.#delete(bucket, previous);
    this.#entries.set(bucket, {
      token,
      claims,
      scopes,
      exp: claims.exp,
      nbf: claims.nbf,
      iat: claims.iat,
      stamp,
      size,
    });
    this.#bytes += size;
    for (const [oldest, entry] of this.#entries) {
      const over = this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes;
      if (!over && entry.exp > now) break;
      this.#delete(oldest, entry);
    }
  }

  #delete(bucket: string, entry: CachedVerification): void {
    this.#entries.delete(bucket);
    this.#bytes -= entry.size;
  }
}

function bound(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`\`${name}\` must be a whole number >= 1, got ${JSON.stringify(value)}.`);
  }
  return value;
}
