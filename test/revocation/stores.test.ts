import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createMemoryStore, createRevocationList, type Claims, type RevocationStore } from "bearer-gate";
import { createRedisStore } from "bearer-gate/redis";
import type { Redis } from "ioredis";
import { HMAC_SECRET, signHmac } from "../fixtures/tokens.js";
import { startRedisWithClients, type RedisWithClients } from "../fixtures/redis-server.js";

// One table of behaviour, run against every store: in memory, and on a real Redis through each
// client we support. Times are real (Redis keeps its own clock), so each case uses its own ids.
let ioredis: Redis;
let nodeRedis: RedisWithClients["nodeRedis"];
let clients: RedisWithClients;

beforeAll(async () => {
  clients = await startRedisWithClients();
  ({ ioredis, nodeRedis } = clients);
}, 20_000);

afterAll(async () => {
  await clients.close();
});

const seconds = (): number => Date.now() / 1000;
const claims = (overrides: Record<string, unknown> = {}): Claims => ({
  exp: Math.floor(seconds()) + 600,
  iat: Math.floor(seconds()) - 1,
  sub: `user-${randomUUID()}`,
  jti: randomUUID(),
  origin_jti: randomUUID(),
  ...overrides,
});

const STORES: [string, () => RevocationStore][] = [
  ["memory", () => createMemoryStore()],
  ["redis (ioredis)", () => createRedisStore(ioredis)],
  ["redis (node-redis)", () => createRedisStore(nodeRedis)],
];

describe.each(STORES)("a revocation list on the %s store", (_name, makeStore) => {
  const list = (options: { maxTokenLifetime?: number; subjectClaim?: string } = {}) =>
    createRevocationList({ store: makeStore(), ...options });

  it("lets a token that nobody revoked through", async () => {
    expect(await list().isRevoked(claims())).toBe(false);
  });

  it("refuses a revoked token, and only that session's tokens", async () => {
    const revocations = list();
    const token = claims();
    await revocations.revoke(token);
    expect(await revocations.isRevoked(token)).toBe(true);
    expect(await revocations.isRevoked(claims({ sub: token.sub }))).toBe(false);
  });

  it("refuses every token of a revoked token's origin_jti family (one Cognito refresh token)", async () => {
    const revocations = list();
    const token = claims();
    await revocations.revoke(token);
    const sibling = claims({ origin_jti: token["origin_jti"], exp: token.exp + 1800 });
    expect(await revocations.isRevoked(sibling)).toBe(true);
  });

  it("revokes from the token text, and from a token with a jti only (the API's own tokens)", async () => {
    const revocations = list();
    const jti = randomUUID();
    const token = signHmac({ jti, exp: Math.floor(seconds()) + 600, uid: 2 }, HMAC_SECRET);
    await revocations.revoke(token);
    expect(await revocations.isRevoked({ jti, exp: Math.floor(seconds()) + 600 })).toBe(true);
  });

  it("logs a subject out everywhere: tokens issued before the cutoff, not after", async () => {
    const revocations = list();
    const sub = `user-${randomUUID()}`;
    const now = Math.floor(seconds());
    await revocations.revokeSubject(sub, { before: new Date((now - 10) * 1000) });
    expect(await revocations.isRevoked(claims({ sub, iat: now - 20 }))).toBe(true);
    expect(await revocations.isRevoked(claims({ sub, iat: now - 5 }))).toBe(false);
    expect(await revocations.isRevoked(claims({ iat: now - 20 }))).toBe(false); // someone else
    expect(await revocations.isRevoked({ sub, exp: seconds() + 60, jti: randomUUID() })).toBe(true); // no iat: cannot show it came after
  });

  it("keeps the later of two cutoffs", async () => {
    const revocations = list();
    const sub = `user-${randomUUID()}`;
    const now = Math.floor(seconds());
    await revocations.revokeSubject(sub, { before: new Date((now - 10) * 1000) });
    await revocations.revokeSubject(sub, { before: new Date((now - 100) * 1000) });
    expect(await revocations.isRevoked(claims({ sub, iat: now - 50 }))).toBe(true);
  });

  it("reads the subject from another claim, numbers included (uid in the API's tokens)", async () => {
    const revocations = list({ subjectClaim: "uid" });
    const uid = Math.floor(Math.random() * 1e9);
    await revocations.revokeSubject(uid);
    expect(await revocations.isRevoked({ uid, iat: Math.floor(seconds()) - 1, exp: seconds() + 60 })).toBe(true);
    expect(await revocations.isRevoked({ uid: uid + 1, iat: Math.floor(seconds()) - 1, exp: seconds() + 60 })).toBe(
      false,
    );
  });

  it("forgets entries once no verifier could accept the tokens they name (exp + 300 s)", async () => {
    const revocations = list({ maxTokenLifetime: 1 });
    // expired 299 s ago: a verifier with the largest clockTolerance (300 s) still accepts it for 1 s
    const token = claims({ exp: seconds() - 299, origin_jti: undefined });
    const sub = `user-${randomUUID()}`;
    await revocations.revoke(token);
    await revocations.revokeSubject(sub, { before: new Date(Date.now() - 300_000) });
    const before = claims({ sub, iat: seconds() - 302, jti: token.jti, origin_jti: undefined });
    expect(await revocations.isRevoked(before)).toBe(true);
    expect(await revocations.isRevoked(claims({ jti: token.jti, origin_jti: undefined }))).toBe(true);
    await sleep(1_300);
    expect(await revocations.isRevoked(before)).toBe(false);
  });

  it("refuses to revoke what names no token, with a clear error", async () => {
    const revocations = list();
    await expect(revocations.revoke("not a jwt")).rejects.toThrow("not a JWT");
    const noIds: Claims = { exp: seconds() + 60, sub: "u" };
    await expect(revocations.revoke(noIds)).rejects.toThrow("jti or origin_jti");
    await expect(revocations.revokeSubject("")).rejects.toThrow("needs a subject");
    await expect(revocations.revokeSubject("u", { before: new Date(Number.NaN) })).rejects.toThrow("valid Date");
  });
});

describe("on Redis", () => {
  it("sets each entry's time to live to what is left of the token + 300 s, and Redis drops it after", async () => {
    const revocations = createRevocationList({ store: createRedisStore(ioredis, { prefix: "ttl-test:" }) });
    const jti = randomUUID();
    await revocations.revoke({ jti, exp: seconds() - 298.5 }); // 1.5 s left of the largest tolerance
    const ttl = await ioredis.pttl(`ttl-test:id:${jti}`);
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(1_500);
    await sleep(1_600);
    expect(await ioredis.exists(`ttl-test:id:${jti}`)).toBe(0);
  });

  it("keeps a family and a subject for maxTokenLifetime + 300 s, and never shortens an entry", async () => {
    const revocations = createRevocationList({
      store: createRedisStore(nodeRedis, { prefix: "life-test:" }),
      maxTokenLifetime: 3600,
    });
    const token = claims({ exp: seconds() + 60 });
    await revocations.revoke(token);
    await revocations.revokeSubject("someone");
    const familyTtl = await ioredis.pttl(`life-test:id:${String(token["origin_jti"])}`);
    const tokenTtl = await ioredis.pttl(`life-test:id:${token.jti!}`);
    const subjectTtl = await ioredis.pttl("life-test:sub:someone");
    expect([
      familyTtl > 3_890_000 && familyTtl <= 3_900_000,
      tokenTtl > 350_000 && tokenTtl <= 360_000,
      subjectTtl > 3_890_000 && subjectTtl <= 3_900_000,
    ]).toEqual([true, true, true]);
    await revocations.revoke({ origin_jti: token["origin_jti"], exp: seconds() + 10 });
    expect(await ioredis.pttl(`life-test:id:${String(token["origin_jti"])}`)).toBeGreaterThan(3_880_000);
  });

  it("answers a request in one round trip (one MGET)", async () => {
    const revocations = createRevocationList({ store: createRedisStore(nodeRedis) }); // its CONFIG GET first
    await sleep(50);
    const monitor = await ioredis.monitor();
    const commands: string[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => commands.push(String(args[0]).toUpperCase()));
    await sleep(50);
    await revocations.isRevoked(claims());
    await sleep(100);
    monitor.disconnect();
    expect(commands).toEqual(["MGET"]);
  });

  it("refuses a client it does not know, and options it does not know", () => {
    expect(() => createRedisStore({} as never)).toThrow("ioredis client or a redis");
    expect(() => createRedisStore(ioredis, { prefx: "a:" } as never)).toThrow("`prefx` (did you mean `prefix`?)");
  });
});

describe("the eviction policy of the Redis behind the list", () => {
  afterEach(async () => {
    await ioredis.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
  });

  // the store asks at creation; its CONFIG GET answers before a later command on the same connection
  async function warningsOf(client: Redis | typeof nodeRedis): Promise<string[]> {
    const warnings: string[] = [];
    const store = createRedisStore(client, { onWarning: (message) => warnings.push(message) });
    await store.lookup([randomUUID()], undefined);
    return warnings;
  }

  it.each([
    ["ioredis", () => ioredis],
    ["node-redis", () => nodeRedis],
  ])("warns through %s when keys may be evicted, and says nothing with noeviction", async (_name, client) => {
    expect(await warningsOf(client())).toEqual([]);
    for (const policy of ["allkeys-lru", "volatile-lru", "volatile-ttl"]) {
      await ioredis.call("CONFIG", "SET", "maxmemory-policy", policy);
      expect(await warningsOf(client())).toEqual([expect.stringContaining(`maxmemory-policy ${policy}`)]);
    }
  });

  it("warns through process.emitWarning by default", async () => {
    await ioredis.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    const spy = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      await createRedisStore(ioredis).lookup([randomUUID()], undefined);
      expect(spy.mock.calls).toEqual([[expect.stringContaining("noeviction"), { code: "BEARER_GATE_REDIS_EVICTION" }]]);
    } finally {
      spy.mockRestore();
    }
  });

  it("says nothing, and rejects nothing, where CONFIG is not allowed (managed Redis)", async () => {
    const warnings: string[] = [];
    const client = {
      call: (command: string, args: (string | number)[]) =>
        command === "CONFIG" ? Promise.reject(new Error("ERR unknown command 'CONFIG'")) : ioredis.call(command, args),
    };
    const store = createRedisStore(client, { onWarning: (message) => warnings.push(message) });
    await expect(store.lookup([randomUUID()], undefined)).resolves.toEqual({ listed: false, cutoff: undefined });
    await sleep(20); // test/setup.ts fails the test on an unhandled rejection
    expect(warnings).toEqual([]);
  });
});

describe("the persistence of the Redis behind the list", () => {
  // the test server runs with AOF on; each case turns it off (and RDB snapshots with it), then back on
  afterEach(async () => {
    await ioredis.call("CONFIG", "SET", "appendonly", "yes");
    await ioredis.call("CONFIG", "SET", "save", "");
  });

  async function warningsOf(client: Redis | typeof nodeRedis): Promise<string[]> {
    const warnings: string[] = [];
    const store = createRedisStore(client, { onWarning: (message) => warnings.push(message) });
    await store.lookup([randomUUID()], undefined);
    await sleep(50); // INFO, then CONFIG GET: two round trips after creation
    return warnings;
  }

  it.each([
    ["ioredis", () => ioredis],
    ["node-redis", () => nodeRedis],
  ])("warns through %s when Redis keeps nothing on disk, and says nothing with AOF or RDB", async (_name, client) => {
    expect(await warningsOf(client())).toEqual([]); // AOF
    await ioredis.call("CONFIG", "SET", "appendonly", "no");
    expect(await warningsOf(client())).toEqual([expect.stringContaining("neither AOF nor RDB snapshots")]);
    await ioredis.call("CONFIG", "SET", "save", "3600 1");
    expect(await warningsOf(client())).toEqual([]); // RDB snapshots
  });

  it("warns through process.emitWarning with a code of its own by default", async () => {
    await ioredis.call("CONFIG", "SET", "appendonly", "no");
    const spy = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      await createRedisStore(ioredis).lookup([randomUUID()], undefined);
      await sleep(50);
      expect(spy.mock.calls).toEqual([
        [expect.stringContaining("restarted, it forgets every revocation"), { code: "BEARER_GATE_REDIS_PERSISTENCE" }],
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});
