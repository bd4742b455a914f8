import { ConfigError } from "./errors/errors.js";
import type { Claims } from "./types.js";

/** Bounds of the verified-token cache; `tokenCache: false` turns it off. */
export interface TokenCacheOptions {
  /** Most tokens kept. Default 10000. */
  maxEntries?: number | undefined;
  /** Most memory the entries may take, in bytes, counted as an upper bound. Default 50331648 (48 MiB). */
  maxBytes?: number | undefined;
}

/** A verification that can be reused while `stamp` still matches the key set. */
export interface CachedVerification {
  readonly token: string;
  readonly claims: Claims;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  /** The user pool that verified it, with `cognito`. */
  readonly pool: string | undefined;
  /** It carries a `cnf` claim: bound to a key or a certificate, checked on every request. */
  readonly bound: boolean;
  /** Which of the verifier's key sources (its user pools) verified it; `stamp` is that source's. */
  readonly source: number;
  /** The claims' `exp`, `nbf` and `iat`, kept as plain numbers for the checks every hit makes. */
  readonly exp: number;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  readonly stamp: number;
  readonly size: number;
  /** Answered since it was kept, or since eviction last passed it over: its second chance. */
  used: boolean;
}

/** The bounds a cache gets when its options leave them out. */
export const TOKEN_CACHE_DEFAULTS = Object.freeze({ maxEntries: 10_000, maxBytes: 48 * 1024 * 1024 });
// What an entry takes besides its token's characters and its claims (an upper bound, 64-bit V8):
// the Map's slot and its share of the table's growth (56), the entry object (120), heap numbers
// for exp, nbf and iat (48), the token string's header and what a slice of the Authorization
// header keeps of it (64), the lookup key, a slice (32); and the scope and group lists, counted
// per name.
const ENTRY_BYTES = 352;
const SCOPE_LIST_BYTES = 64;
const SCOPE_BYTES = 40;
// Entries are found by the signature's last characters and then compared whole, so a lookup
// hashes 32 characters instead of the whole token; a collision is only ever a miss.
const BUCKET_CHARS = 32;
// When the cache is full, one miss in ten is let in. A working set larger than the cache, met in
// a cycle (as a load balancer spreads users), then keeps most of what it holds instead of
// replacing every entry before it is asked for again; `npm run bench` measures the difference.
const ADMISSION = 0.1;
// Eviction passes over at most this many entries answered since they were kept (CLOCK's second
// chance), so no insert ever walks the whole cache.
const SECOND_CHANCES = 16;
// Expired entries at the front are dropped as new ones come, this many at most per insert.
const EXPIRED_PER_INSERT = 32;

/**
 * Verified tokens, matched on their whole text, bounded in count and in bytes counted as an upper
 * bound. Full, it admits one miss in ten and evicts the oldest entry not answered since it was
 * kept (a second chance for the rest). Entries are only ever reused under the same key-set stamp;
 * the verifier re-applies the clock, the required claims and `isRevoked` on every hit.
 */
export class TokenCache {
  readonly #entries = new Map<string, CachedVerification>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #random: () => number;
  #bytes = 0;

  /** @param random where admission draws from when full; tests pin it */
  constructor(options: TokenCacheOptions, random: () => number = Math.random) {
    this.#maxEntries = bound(options.maxEntries, "tokenCache.maxEntries", TOKEN_CACHE_DEFAULTS.maxEntries);
    this.#maxBytes = bound(options.maxBytes, "tokenCache.maxBytes", TOKEN_CACHE_DEFAULTS.maxBytes);
    this.#random = random;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The bytes the entries take at most. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The verification of `token`, if the key source that made it still has the stamp it was made
   * under (`stampOf`); a negative stamp (keys past their age) never hits.
   */
  get(token: string, stampOf: (source: number) => number): CachedVerification | undefined {
    const bucket = token.slice(-BUCKET_CHARS);
    const entry = this.#entries.get(bucket);
    if (entry === undefined || entry.token !== token) return undefined;
    const stamp = stampOf(entry.source);
    if (stamp < 0) return undefined;
    if (entry.stamp === stamp) {
      entry.used = true;
      return entry;
    }
    this.#delete(bucket, entry); // verified under keys that changed since
    return undefined;
  }

  /**
   * Keeps a verification; `now` in seconds, to drop entries already past their `exp`;
   * `claimsBytes`, at most what the claims take (as `decodeJwt` counts them).
   */
  set(
    token: string,
    claims: Claims,
    lists: {
      readonly scopes: readonly string[];
      readonly groups: readonly string[];
      readonly pool?: string | undefined;
      readonly bound?: boolean | undefined;
    },
    source: number,
    stamp: number,
    now: number,
    claimsBytes: number,
  ): void {
    const { scopes, groups, pool, bound = false } = lists;
    const size = entrySize(token, scopes, claimsBytes, groups);
    if (stamp < 0 || size > this.#maxBytes) return;
    const bucket = token.slice(-BUCKET_CHARS);
    const previous = this.#entries.get(bucket);
    if (previous !== undefined) this.#delete(bucket, previous);
    this.#dropExpired(now);
    const full = this.#entries.size >= this.#maxEntries || this.#bytes + size > this.#maxBytes;
    if (full && this.#random() >= ADMISSION) return;
    // A token cut out of a larger string (a 16 KB cookie, by getToken) is a V8 sliced string that
    // keeps the whole of it alive: the bound holds only for a copy of the token's own characters.
    const own = flatCopy(token);
    this.#entries.set(own.slice(-BUCKET_CHARS), {
      token: own,
      claims,
      scopes,
      groups,
      pool,
      bound,
      source,
      exp: claims.exp,
      nbf: claims.nbf,
      iat: claims.iat,
      stamp,
      size,
      used: false,
    });
    this.#bytes += size;
    this.#evict();
  }

  #dropExpired(now: number): void {
    let budget = EXPIRED_PER_INSERT;
    for (const [bucket, entry] of this.#entries) {
      if (entry.exp > now || budget-- === 0) return;
      this.#delete(bucket, entry);
    }
  }

  // the oldest entry not answered since it was kept goes; one that was goes to the back, once
  #evict(): void {
    let chances = SECOND_CHANCES;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const [bucket, entry] = this.#entries.entries().next().value as [string, CachedVerification];
      this.#entries.delete(bucket);
      if (entry.used && chances-- > 0) {
        entry.used = false;
        this.#entries.set(bucket, entry);
      } else {
        this.#bytes -= entry.size;
      }
    }
  }

  #delete(bucket: string, entry: CachedVerification): void {
    this.#entries.delete(bucket);
    this.#bytes -= entry.size;
  }
}

/**
 * At most what an entry takes on the heap, in bytes: the token, its claims, its scope and group
 * lists (shared with the claims or between tokens where they can be, counted as if not), the rest.
 */
export function entrySize(
  token: string,
  scopes: readonly string[],
  claimsBytes: number,
  groups: readonly string[] = [],
): number {
  let size = ENTRY_BYTES + token.length + claimsBytes + 2 * SCOPE_LIST_BYTES;
  for (const name of scopes) size += SCOPE_BYTES + name.length * 2;
  for (const name of groups) size += SCOPE_BYTES + name.length * 2;
  return size;
}

function bound(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`\`${name}\` must be a whole number >= 1, got ${JSON.stringify(value)}.`);
  }
  return value;
}

// A new string holding only these characters: concatenation makes a rope, and slicing a rope
// flattens it into a fresh string first, so nothing of the original is referenced.
function flatCopy(text: string): string {
  return ` ${text}`.slice(1);
}
