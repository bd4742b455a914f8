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
  readonly claims: Claims;
  readonly scopes: readonly string[];
  readonly stamp: number;
  readonly size: number;
}

const DEFAULTS = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 };
// Map entry, the entry object, the frozen scope list and the claims' hidden classes: a generous
// constant on top of the token's and the claims' own sizes.
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * Verified tokens by their whole text, bounded in count and estimated bytes, oldest-inserted out
 * first. Entries are only ever reused under the same key-set stamp; the verifier re-applies the
 * clock, the required claims and `isRevoked` on every hit.
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
    const entry = this.#entries.get(token);
    if (entry === undefined || entry.stamp === stamp) return entry;
    this.delete(token); // verified under keys that changed since
    return undefined;
  }

  /** Keeps a verification; `now` in seconds, to drop entries already past their `exp`. */
  set(token: string, claims: Claims, scopes: readonly string[], stamp: number, now: number): void {
    // the token (one byte a character in V8's one-byte strings) and its claims as objects, which
    // take about twice the characters of their JSON: measured by `npm run bench`'s memory row
    const size = token.length * 3 + ENTRY_OVERHEAD_BYTES;
    if (stamp < 0 || size > this.#maxBytes) return;
    this.delete(token);
    this.#entries.set(token, { claims, scopes, stamp, size });
    this.#bytes += size;
    for (const [oldest, entry] of this.#entries) {
      const over = this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes;
      if (!over && entry.claims.exp > now) break;
      this.delete(oldest);
    }
  }

  delete(token: string): void {
    const entry = this.#entries.get(token);
    if (entry === undefined) return;
    this.#entries.delete(token);
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
