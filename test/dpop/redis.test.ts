import { setTimeout as sleep } from "node:timers/promises";
import express from "express";
import Koa from "koa";
import request from "supertest";
import { Redis } from "ioredis";
import type { ReplayStore, VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { createRedisReplayStore } from "bearer-gate/redis";
import { createDpopKey, hmacTokens } from "bearer-gate/testing";
import { BODY_450, BODY_980 } from "../fixtures/catalogue.js";
import { startRedisWithClients, type RedisServer, type RedisWithClients } from "../fixtures/redis-server.js";

// Two instances of one API behind a load balancer, each with its own Redis connection, on a real
// redis-server: a proof taken by one must be refused by the other.
const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const ORIGIN = "https://api.example.test";
const tokens = hmacTokens(SECRET);
let redis: RedisServer;
let ioredis: Redis;
let nodeRedis: RedisWithClients["nodeRedis"];
let clients: RedisWithClients;

beforeAll(async () => {
  clients = await startRedisWithClients();
  ({ server: redis, ioredis, nodeRedis } = clients);
}, 20_000);

afterAll(async () => {
  await clients.close();
});

const options = (replayStore: ReplayStore): VerifierOptions =>
  tokens.options({ dpop: { origin: ORIGIN, replayStore } });

function expressInstance(replayStore: ReplayStore) {
  return express()
    .use(expressGate.requireToken(options(replayStore)))
    .get("/orders", (req, res) => res.json({ binding: req.auth.binding }));
}

function koaInstance(replayStore: ReplayStore) {
  const app = new Koa();
  app.use(koaGate.requireToken(options(replayStore)));
  app.use((ctx) => {
    ctx.body = { binding: ctx.state.auth.binding };
  });
  return app.callback();
}

describe("a DPoP replay store on Redis, shared by two instances", () => {
  const key = createDpopKey();
  const token = tokens.access({ dpopKey: key });
  const proof = () => key.proof({ method: "GET", url: `${ORIGIN}/orders`, accessToken: token });
  const call = (app: Parameters<typeof request>[0], dpop: string) =>
    request(app).get("/orders").set("Authorization", `DPoP ${token}`).set("DPoP", dpop);

  it.each([
    ["ioredis", () => createRedisReplayStore(ioredis), () => createRedisReplayStore(ioredis)],
    ["node-redis", () => createRedisReplayStore(nodeRedis), () => createRedisReplayStore(nodeRedis)],
    ["ioredis and node-redis", () => createRedisReplayStore(ioredis), () => createRedisReplayStore(nodeRedis)],
  ])("refuses at one instance a proof taken at the other (%s)", async (_clients, first, second) => {
    const one = expressInstance(first());
    const other = koaInstance(second());
    const dpop = proof();
    const taken = await call(one, dpop);
    expect([taken.status, taken.body]).toEqual([200, { binding: { method: "dpop", thumbprint: key.thumbprint } }]);
    const replayed = await call(other, dpop);
    expect([replayed.status, replayed.text]).toEqual([401, BODY_450]);
    // a fresh proof is taken at either
    expect([(await call(other, proof())).status, (await call(one, proof())).status]).toEqual([200, 200]);
  });

  it("keeps each proof no longer than its window (maxAgeSeconds + twice the tolerance, + 1 s)", async () => {
    const store = createRedisReplayStore(ioredis, { prefix: "ttl-test:" });
    const app = express()
      .use(
        expressGate.requireToken(tokens.options({ clockTolerance: 5, dpop: { origin: ORIGIN, replayStore: store } })),
      )
      .get("/orders", (_req, res) => res.json({}));
    expect((await call(app, proof())).status).toBe(200);
    const keys = await ioredis.keys("ttl-test:dpop:*");
    expect(keys).toHaveLength(1);
    const ttl = await ioredis.pttl(keys[0] as string);
    expect(ttl).toBeGreaterThan(70_000 - 5_000);
    expect(ttl).toBeLessThanOrEqual(71_000);
  });

  it("fails closed while Redis is down: 503 with Retry-After and no handler; then takes proofs again", async () => {
    const down = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const handled: unknown[] = [];
    const app = express()
      .use(expressGate.requireToken(options(createRedisReplayStore(down))))
      .get("/orders", (_req, res) => (handled.push(1), res.json({})));
    await sleep(100);
    expect((await call(app, proof())).status).toBe(200);
    await redis.stop();
    try {
      const refused = await call(app, proof());
      expect([refused.status, refused.text, refused.headers["retry-after"]]).toEqual([503, BODY_980, "1"]);
      expect(handled).toHaveLength(1);
    } finally {
      await redis.restart();
    }
    for (let tries = 0; tries < 50 && down.status !== "ready"; tries++) await sleep(100);
    expect((await call(app, proof())).status).toBe(200);
    down.disconnect();
    // the shared clients reconnect for the tests after this one
    for (let tries = 0; tries < 50 && ioredis.status !== "ready"; tries++) await sleep(100);
  }, 20_000);

  it("warns of a Redis that may evict its keys", async () => {
    await ioredis.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    const warnings: string[] = [];
    try {
      const store = createRedisReplayStore(ioredis, { onWarning: (message) => warnings.push(message) });
      await store.add("warning-test", 1000);
      await sleep(20);
      expect(warnings).toEqual([expect.stringContaining("an evicted proof can be replayed")]);
    } finally {
      await ioredis.call("CONFIG", "SET", "maxmemory-policy", "noeviction");
    }
  });
});
