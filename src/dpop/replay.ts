import { ConfigError, TokenError } from "../errors/errors.js";
import { number, plainObject, rejectUnknown } from "../options/check.js";

/**
 * Where the `jti`s of DPoP proofs already used are remembered, so a proof is taken once
 * (RFC 9449 §11.1). One process: `createMemoryReplayStore()` (the default). Several instances of an
 * API behind a load balancer: a store they share, `createRedisReplayStore(client)` from
 * `bearer-gate/redis`, or your own.
 */
export interface ReplayStore {
  /**
   * Records `key` for `ttlMs` milliseconds, atomically: answers `true` when it was not recorded yet
   * (the first use of the proof), `false` when it was (a replay). A throw or a rejection refuses the
   * request with a 503 (`replay_unavailable`): a proof that cannot be checked is never taken.
   */
  add(key: string, ttlMs: number): boolean | Promise<boolean>;
}

/** Options of `createMemoryReplayStore`. */
export interface MemoryReplayStoreOptions {
  /**
   * At most this many proofs remembered at once (default 100000, about 15 MB). Full of proofs still
   * in their window, it refuses new ones with a 503 rather than forget one that could be replayed.
   */
  maxEntries?: number | undefined;
  /** The clock, in ms; default `Date.now`. */
  clock?: (() => number) | undefined;
}

/**
 * A replay store in this process's memory: enough for an API that runs as one process. Behind a
 * load balancer, a proof taken by one instance could be replayed at another: share a store
 * (`createRedisReplayStore` from `bearer-gate/redis`).
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  rejectUnknown(plainObject(options, "memory replay store options"), ["maxEntries", "clock"], "replay store");
  const maxEntries = number(options.maxEntries, "maxEntries", 100_000, { min: 1, integer: true });
  const clock = options.clock ?? Date.now;
  if (typeof clock !== "function") throw new ConfigError("`clock` must be a function.");
  // key → when it may be forgotten, in insertion order: every entry lives the same window, so
  // the oldest inserted expires first and a purge stops at the first live entry
  const seen = new Map<string, number>();
  return Object.freeze({
    add(key: string, ttlMs: number): boolean {
      const now = clock();
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      if (until !== undefined) seen.delete(key);
      if (seen.size >= maxEntries) purge(seen, now);
      if (seen.size >= maxEntries) throw new Error(`the replay store holds ${maxEntries} live proofs: it is full`);
      seen.set(key, now + ttlMs);
      return true;
    },
  });
}

function purge(seen: Map<string, number>, now: number): void {
  for (const [key, until] of seen) {
    if (until > now) return;
    seen.delete(key);
  }
}

/**
 * Records a checked proof in the store (RFC 9449 §11.1: a proof is taken once): `undefined` when
 * the store answered at once, else a promise. A proof seen before is `invalid_dpop_proof`; a store
 * that throws, rejects or answers anything but a boolean is `replay_unavailable` (503): fail closed.
 */
export function recordProof(store: ReplayStore, key: string, ttlMs: number): Promise<void> | undefined {
  let fresh: boolean | Promise<boolean>;
  try {
    fresh = store.add(key, ttlMs);
  } catch (cause) {
    throw unavailable(cause);
  }
  if (!(fresh instanceof Promise)) return verdict(fresh);
  return fresh.then(verdict, (cause: unknown) => Promise.reject(unavailable(cause)));
}

function verdict(fresh: unknown): undefined {
  if (fresh === true) return undefined;
  if (fresh === false) {
    throw new TokenError("invalid_dpop_proof", undefined, { cause: new Error("the proof's jti was used before") });
  }
  throw unavailable(new Error(`the replay store's add() answered ${typeof fresh}, not true or false`));
}

function unavailable(cause: unknown): TokenError {
  return new TokenError("replay_unavailable", undefined, { cause, retryAfter: 1 });
}
