import { fn, number, plainObject, readClock, rejectUnknown } from "../options/check.js";

/**
 * Where a revocation list keeps its entries. Every entry carries its own time to live, so the
 * list shrinks by itself as the tokens it names expire. `createMemoryStore()` and
 * `createRedisStore()` (from `bearer-gate/redis`) are the two this package ships; any object with
 * these three methods will do.
 */
export interface RevocationStore {
  /** Lists a token id (`jti` or `origin_jti`) for `ttlMs`; an entry already there keeps the longer time. */
  revokeId(id: string, ttlMs: number): Promise<void>;
  /**
   * Refuses `subject`'s tokens issued before `cutoff` (seconds since the epoch) for `ttlMs`; of two
   * cutoffs the later one stays.
   */
  revokeSubject(subject: string, cutoff: number, ttlMs: number): Promise<void>;
  /** In one round trip: whether any of `ids` is listed, and `subject`'s cutoff if it has one. */
  lookup(ids: readonly string[], subject: string | undefined): Promise<RevocationLookup>;
}

/** What a store knows about one token. */
export interface RevocationLookup {
  readonly listed: boolean;
  /** Seconds since the epoch: the subject's tokens issued before it are refused. */
  readonly cutoff: number | undefined;
}

/** Options of `createMemoryStore`. */
export interface MemoryStoreOptions {
  /** Most entries held; once full (after dropping expired ones) `revoke` rejects. Default 100000. */
  maxEntries?: number | undefined;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: (() => number) | undefined;
}

interface Entry {
  readonly cutoff: number; // 0 for a listed id
  readonly until: number;
}

/**
 * A revocation store in this process's memory, bounded in entries: for a single instance and
 * for tests. Several instances of an API need a shared store (`bearer-gate/redis`).
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): RevocationStore {
  rejectUnknown(plainObject(options, "memory store options"), ["maxEntries", "clock"], "memory store");
  const maxEntries = number(options.maxEntries, "maxEntries", 100_000, { min: 1, integer: true });
  const clock = fn(options.clock, "clock") ?? Date.now;
  const entries = new Map<string, Entry>();

  function live(key: string, now: number): Entry | undefined {
    const entry = entries.get(key);
    if (entry !== undefined && entry.until <= now) entries.delete(key);
    return entry !== undefined && entry.until > now ? entry : undefined;
  }

  function put(key: string, entry: Entry, now: number): void {
    if (!entries.has(key) && entries.size >= maxEntries) {
      for (const [other, { until }] of entries) if (until <= now) entries.delete(other);
      // dropping a live entry would let a revoked token back in: refuse the new one instead
      if (entries.size >= maxEntries) {
        throw new Error(`bearer-gate: the memory revocation store is full (maxEntries ${maxEntries}).`);
      }
    }
    entries.set(key, entry);
  }

  return Object.freeze({
    revokeId: (id: string, ttlMs: number) =>
      settle(() => {
        const now = readClock(clock);
        const until = now + ttlMs;
        if (until > (live(`id:${id}`, now)?.until ?? 0)) put(`id:${id}`, { cutoff: 0, until }, now);
      }),
    revokeSubject: (subject: string, cutoff: number, ttlMs: number) =>
      settle(() => {
        const now = readClock(clock);
        if (cutoff > (live(`sub:${subject}`, now)?.cutoff ?? -Infinity)) {
          put(`sub:${subject}`, { cutoff, until: now + ttlMs }, now);
        }
      }),
    lookup: (ids: readonly string[], subject: string | undefined) =>
      settle((): RevocationLookup => {
        const now = readClock(clock);
        return {
          listed: ids.some((id) => live(`id:${id}`, now) !== undefined),
          cutoff: subject === undefined ? undefined : live(`sub:${subject}`, now)?.cutoff,
        };
      }),
  });
}

// the store's contract is promises: a throw (a full store) becomes a rejection
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
