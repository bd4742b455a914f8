import { ConfigError, type ReplayStore, type RevocationLookup, type RevocationStore } from "../src/index.js";
import { plainObject, rejectUnknown } from "../src/options/check.js";

/** An `ioredis` client (v5 or newer): only its `call` is used. */
export interface IoRedisLike {
  call(command: string, args: (string | number)[]): Promise<unknown>;
}

/** A `redis` (node-redis) client, v4 or newer: only its `sendCommand` is used. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Options of `createRedisStore`. */
export interface RedisStoreOptions {
  /** Put before every key. Default `"bearer-gate:"`; on Redis Cluster use a hash tag, `"{bearer-gate}:"`. */
  prefix?: string | undefined;
  /**
   * Hears of a Redis that may lose this store's keys, found at creation: one that may evict them
   * (any `maxmemory-policy` but `noeviction`: `volatile-*` evicts keys with a time to live, as every
   * entry here has), and one that keeps nothing on disk (neither AOF nor RDB snapshots: restarted,
   * it forgets every revocation). A lost entry un-revokes a token. Default: `process.emitWarning`
   * (codes `BEARER_GATE_REDIS_EVICTION`, `BEARER_GATE_REDIS_PERSISTENCE`). Where `CONFIG` is not
   * allowed (many managed services) nothing is said of what only it tells.
   */
  onWarning?: ((message: string) => void) | undefined;
}

type Send = (args: string[]) => Promise<unknown>;

// keeps the longer time to live of two revocations of one id (-1: the key has no expiry; leave it)
const REVOKE_ID = `local ttl = redis.call('PTTL', KEYS[1])
if ttl ~= -1 and ttl < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end`;
// keeps the later of two cutoffs of one subject, with its (longer) time to live
const REVOKE_SUBJECT = `local current = tonumber(redis.call('GET', KEYS[1]) or '-1') or -1
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end`;

/**
 * A revocation store on the Redis client the app already has (`ioredis`, or `redis` v4+ once
 * connected), shared by every instance of the API. A request costs one `MGET`; entries carry a
 * time to live, so Redis drops them once the tokens they name have expired.
 * @example
 * const revocations = createRevocationList({ store: createRedisStore(new Redis(process.env.REDIS_URL)) });
 */
export function createRedisStore(
  client: IoRedisLike | NodeRedisLike,
  options: RedisStoreOptions = {},
): RevocationStore {
  const send = sender(client);
  const { prefix, warn } = storeSettings(options, "Redis store");
  checkEviction(send, warn, "revocation", "an evicted revocation is a token let back in");
  checkPersistence(send, warn);
  const idKey = (id: string): string => `${prefix}id:${id}`;
  const subjectKey = (subject: string): string => `${prefix}sub:${subject}`;

  return Object.freeze({
    async revokeId(id: string, ttlMs: number): Promise<void> {
      await send(["EVAL", REVOKE_ID, "1", idKey(id), String(ttlMs)]);
    },
    async revokeSubject(subject: string, cutoff: number, ttlMs: number): Promise<void> {
      await send(["EVAL", REVOKE_SUBJECT, "1", subjectKey(subject), String(cutoff), String(ttlMs)]);
    },
    async lookup(ids: readonly string[], subject: string | undefined): Promise<RevocationLookup> {
      const keys = ids.map(idKey);
      if (subject !== undefined) keys.push(subjectKey(subject));
      const values = await send(["MGET", ...keys]);
      if (!Array.isArray(values) || values.length !== keys.length) throw new Error("MGET answered an unexpected shape");
      const listed = values.slice(0, ids.length).some((value) => value !== null);
      if (subject === undefined || values[ids.length] === null) return { listed, cutoff: undefined };
      const cutoff = Number(String(values[ids.length]));
      // a cutoff that is not a number is a broken store: fail rather than guess
      if (!Number.isFinite(cutoff)) throw new Error("a subject cutoff in Redis is not a number");
      return { listed, cutoff };
    },
  });
}

/** Options of `createRedisReplayStore`. */
export interface RedisReplayStoreOptions {
  /** Put before every key (then `dpop:`). Default `"bearer-gate:"`; on Redis Cluster, a hash tag. */
  prefix?: string | undefined;
  /**
   * Hears of a Redis that may evict this store's keys (any `maxmemory-policy` but `noeviction`): an
   * evicted proof could be replayed within its minute. Default: `process.emitWarning`
   * (`BEARER_GATE_REDIS_EVICTION`).
   */
  onWarning?: ((message: string) => void) | undefined;
}

/**
 * A DPoP replay store on the Redis client the app already has (`ioredis`, or `redis` v4+ once
 * connected), shared by every instance of the API, so a proof taken by one is refused by all: one
 * atomic `SET key 1 NX PX ttl` per proof, each key expiring with the proof's window. An unreachable
 * Redis refuses the request with a 503 (`replay_unavailable`), never a pass.
 * @example
 * requireToken({ ..., dpop: { origin, replayStore: createRedisReplayStore(new Redis(process.env.REDIS_URL)) } });
 */
export function createRedisReplayStore(
  client: IoRedisLike | NodeRedisLike,
  options: RedisReplayStoreOptions = {},
): ReplayStore {
  const send = sender(client);
  const { prefix, warn } = storeSettings(options, "Redis replay store");
  checkEviction(send, warn, "DPoP replay", "an evicted proof can be replayed within its window");
  return Object.freeze({
    async add(key: string, ttlMs: number): Promise<boolean> {
      const reply = await send(["SET", `${prefix}dpop:${key}`, "1", "NX", "PX", String(Math.ceil(ttlMs))]);
      if (reply === null) return false;
      if (reply === "OK") return true;
      throw new Error("SET NX answered an unexpected shape");
    },
  });
}

// allkeys-* policies evict any key, and volatile-* ones evict keys that have a time to live, which
// every entry of this store has: under memory pressure only noeviction keeps every revocation.
function checkEviction(send: Send, warn: Warn, store: string, loss: string): void {
  send(["CONFIG", "GET", "maxmemory-policy"]).then(
    (reply) => {
      const policy = configValue(reply, "maxmemory-policy");
      if (typeof policy === "string" && policy !== "noeviction") {
        warn(
          `bearer-gate: this Redis evicts keys under memory pressure (maxmemory-policy ${policy}), and ${loss}. ` +
            `Give the ${store} store a Redis with maxmemory-policy noeviction.`,
          "BEARER_GATE_REDIS_EVICTION",
        );
      }
    },
    () => undefined, // CONFIG renamed or refused (managed Redis), or not connected yet: nothing to say
  );
}

// A Redis with neither AOF (`aof_enabled:1` in INFO persistence) nor RDB snapshots (CONFIG GET
// save: "" when none is set) starts empty after a restart: every revocation is gone at once.
function checkPersistence(send: Send, warn: Warn): void {
  send(["INFO", "persistence"])
    .then((info) => {
      if (/^aof_enabled:1\s*$/m.test(String(info))) return;
      return send(["CONFIG", "GET", "save"]).then((reply) => {
        if (configValue(reply, "save") !== "") return;
        warn(
          "bearer-gate: this Redis keeps nothing on disk (neither AOF nor RDB snapshots): restarted, it forgets " +
            "every revocation, and revoked tokens are let back in until they expire. Turn on appendonly yes " +
            "(see docs/revocation.md).",
          "BEARER_GATE_REDIS_PERSISTENCE",
        );
      });
    })
    .catch(() => undefined); // INFO or CONFIG refused (managed Redis), or not connected yet: nothing to say
}

// CONFIG GET answers a flat [name, value] list (RESP2, ioredis) or a map (RESP3, node-redis 5+)
function configValue(reply: unknown, name: string): unknown {
  if (Array.isArray(reply)) {
    const at = (reply as unknown[]).indexOf(name);
    return at < 0 ? undefined : (reply as unknown[])[at + 1];
  }
  if (reply instanceof Map) return reply.get(name);
  return reply !== null && typeof reply === "object" ? (reply as Record<string, unknown>)[name] : undefined;
}

/** Tells of a Redis that may lose entries: the user's `onWarning`, or a process warning with its code. */
type Warn = (message: string, code: string) => void;

// the options both stores take, checked: the key prefix, and where warnings go
function storeSettings(
  options: RedisStoreOptions | RedisReplayStoreOptions,
  what: string,
): { prefix: string; warn: Warn } {
  rejectUnknown(plainObject(options, `${what} options`), ["prefix", "onWarning"], what);
  const prefix = options.prefix ?? "bearer-gate:";
  if (typeof prefix !== "string") throw new ConfigError("`prefix` must be a string.");
  const { onWarning } = options;
  if (onWarning !== undefined && typeof onWarning !== "function") {
    throw new ConfigError("`onWarning` must be a function.");
  }
  const warn: Warn =
    onWarning === undefined
      ? (message, code) => process.emitWarning(message, { code })
      : (message) => onWarning(message);
  return { prefix, warn };
}

function sender(client: unknown): Send {
  if (client !== null && typeof client === "object") {
    // ioredis has a `sendCommand` of its own (taking a Command object), so `call` is tested first
    if ("call" in client && typeof client.call === "function") {
      const call = client.call.bind(client) as (command: string, args: string[]) => Promise<unknown>;
      return ([command, ...args]) => call(command ?? "", args);
    }
    if ("sendCommand" in client && typeof client.sendCommand === "function") {
      return client.sendCommand.bind(client) as Send;
    }
  }
  throw new ConfigError(
    "createRedisStore() and createRedisReplayStore() need an ioredis client or a redis (node-redis) v4+ client.",
  );
}
