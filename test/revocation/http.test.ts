import express from "express";
import Koa from "koa";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { createRevocationList, type RevocationListOptions, type RevocationStore, type TokenError } from "bearer-gate";
import { requireToken as expressToken } from "bearer-gate/express";
import { requireToken as koaToken } from "bearer-gate/koa";
import { createRedisStore } from "bearer-gate/redis";
import { createTestIssuer, type TestIssuer } from "bearer-gate/testing";
import { BODY_450, BODY_980, invalid } from "../fixtures/catalogue.js";
import { get, listen, type Listening } from "../fixtures/http.js";
import { RedisServer } from "../fixtures/redis-server.js";

// Two instances of one API, an Express app on ioredis and a Koa app on node-redis, each with the
// clients' default settings, share one real Redis on 127.0.0.1; the test stops and freezes it.
let redis: RedisServer;
let issuer: TestIssuer;
let ioredis: Redis;
let nodeRedis: ReturnType<typeof createClient>;
const clientErrors: unknown[] = [];

interface Instance {
  readonly server: Listening;
  readonly refused: TokenError[];
  readonly storeErrors: TokenError[];
  handled: number;
}

// each instance has its own list (and store) on the shared Redis, as separate processes would
function revocationsOn(store: RevocationStore, list: Partial<RevocationListOptions>) {
  const instance = { refused: [] as TokenError[], storeErrors: [] as TokenError[], handled: 0 };
  const revocations = createRevocationList({
    store,
    timeoutMs: 200,
    onError: (error) => instance.storeErrors.push(error),
    ...list,
  });
  return { revocations, instance };
}

function expressInstance(list: Partial<RevocationListOptions> = {}): Promise<Instance> {
  const { revocations, instance } = revocationsOn(createRedisStore(ioredis), list);
  const app = express();
  app.use(
    expressToken({
      ...issuer.cognitoOptions(),
      isRevoked: revocations.isRevoked,
      onFailure: (error) => instance.refused.push(error),
    }),
  );
  app.get("/me", (req, res) => {
    instance.handled += 1;
    res.json({ sub: req.auth.claims.sub });
  });
  app.post("/logout", async (req, res) => {
    await revocations.revoke(req.auth.claims);
    res.sendStatus(204);
  });
  return listen(app).then((server) => Object.assign(instance, { server }));
}

function koaInstance(list: Partial<RevocationListOptions> = {}): Promise<Instance> {
  const { revocations, instance } = revocationsOn(createRedisStore(nodeRedis), list);
  const app = new Koa();
  app.use(
    koaToken({
      ...issuer.cognitoOptions(),
      isRevoked: revocations.isRevoked,
      onFailure: (error) => instance.refused.push(error),
    }),
  );
  app.use(async (ctx) => {
    const sub = ctx.state.auth.claims.sub;
    if (ctx.method === "POST" && ctx.path === "/logout-everywhere" && sub !== undefined) {
      await revocations.revokeSubject(sub);
      ctx.status = 204;
      return;
    }
    instance.handled += 1;
    ctx.body = { sub };
  });
  const handle = app.callback();
  return listen((req, res) => void handle(req, res)).then((server) => Object.assign(instance, { server }));
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const post = (instance: Instance, path: string, token: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request(`${instance.server.url}${path}`, { method: "POST", headers: bearer(token) }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
const originJti = (token: string): string =>
  (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { origin_jti: string }).origin_jti;

beforeAll(async () => {
  redis = await RedisServer.start();
  issuer = await createTestIssuer({ clientId: "web" });
  ioredis = new Redis(redis.url);
  ioredis.on("error", (error) => clientErrors.push(error)); // the clients' own rule: listen to "error"
  nodeRedis = createClient({ url: redis.url });
  nodeRedis.on("error", (error) => clientErrors.push(error));
  await nodeRedis.connect();
}, 20_000);

afterAll(async () => {
  ioredis.disconnect();
  nodeRedis.destroy();
  await issuer.close();
  await redis.close();
});

describe("two instances sharing one Redis", () => {
  let one: Instance, two: Instance;
  beforeAll(async () => {
    [one, two] = await Promise.all([expressInstance(), koaInstance()]);
  });
  afterAll(async () => {
    await Promise.all([one.server.close(), two.server.close()]);
  });

  it("a token logged out on one instance is refused by the other on the next request", async () => {
    const token = issuer.accessToken({ sub: "alice" });
    const sibling = issuer.accessToken({ sub: "alice", origin_jti: originJti(token) }); // same refresh token
    const other = issuer.accessToken({ sub: "alice" }); // another device's session
    expect((await get(`${two.server.url}/me`, bearer(token))).status).toBe(200); // now in two's cache
    expect(await post(one, "/logout", token)).toBe(204);
    const handled = two.handled;
    for (const revoked of [token, sibling]) {
      const answer = await get(`${two.server.url}/me`, bearer(revoked));
      expect([answer.status, answer.text, answer.headers["www-authenticate"]]).toEqual([
        401,
        BODY_450,
        invalid("The access token was revoked"),
      ]);
    }
    expect(two.handled).toBe(handled);
    expect(two.refused.map((error) => error.reason)).toEqual(["revoked", "revoked"]);
    expect((await get(`${one.server.url}/me`, bearer(token))).status).toBe(401);
    expect((await get(`${one.server.url}/me`, bearer(other))).status).toBe(200);
  });

  it("logging out everywhere on one instance refuses the subject's older tokens on the other", async () => {
    const before = issuer.accessToken({ sub: "bob" });
    const someoneElse = issuer.accessToken({ sub: "carol" });
    expect(await post(two, "/logout-everywhere", before)).toBe(204);
    expect((await get(`${one.server.url}/me`, bearer(before))).status).toBe(401);
    expect((await get(`${one.server.url}/me`, bearer(someoneElse))).status).toBe(200);
    await sleep(1_100); // iat has whole seconds: a token minted in a later second is after the cutoff
    expect((await get(`${one.server.url}/me`, bearer(issuer.accessToken({ sub: "bob" })))).status).toBe(200);
  });
});

describe("when Redis fails", () => {
  let deny: Instance[], allow: Instance[];
  const token = (): string => issuer.accessToken({ sub: "dave" });
  const statuses = async (instances: Instance[]): Promise<number[]> =>
    Promise.all(instances.map(async ({ server }) => (await get(`${server.url}/me`, bearer(token()))).status));
  // the outage is over once every instance answers 200 again; bounded, never a fixed sleep
  const recovered = async (instances: Instance[]): Promise<number[]> => {
    for (let tries = 0; tries < 100; tries += 1) {
      const seen = await statuses(instances);
      if (seen.every((status) => status === 200)) return seen;
      await sleep(100);
    }
    return statuses(instances);
  };

  beforeAll(async () => {
    deny = await Promise.all([expressInstance(), koaInstance()]);
    allow = await Promise.all([expressInstance({ onStoreError: "allow" }), koaInstance({ onStoreError: "allow" })]);
  });
  afterAll(async () => {
    await Promise.all([...deny, ...allow].map(({ server }) => server.close()));
  });

  it("answers 503 (980) while Redis is down, never runs the handler, and recovers when it returns", async () => {
    expect(await statuses(deny)).toEqual([200, 200]);
    await redis.stop();
    const handled = deny.map((instance) => instance.handled);
    for (const { server } of deny) {
      const answer = await get(`${server.url}/me`, bearer(token()));
      expect([answer.status, answer.text, answer.headers["www-authenticate"]]).toEqual([503, BODY_980, undefined]);
    }
    expect(deny.map((instance) => instance.handled)).toEqual(handled);
    expect(deny.map((instance) => instance.refused.at(-1)?.reason)).toEqual([
      "revocation_unavailable",
      "revocation_unavailable",
    ]);
    expect(deny.every((instance) => instance.storeErrors.length > 0)).toBe(true);
    await redis.restart();
    expect(await recovered(deny)).toEqual([200, 200]);
  });

  it("answers 503 while Redis is frozen past the timeout, and 200 once it thaws", async () => {
    expect(await recovered(deny)).toEqual([200, 200]);
    redis.pause();
    try {
      const started = Date.now();
      expect(await statuses(deny)).toEqual([503, 503]);
      expect(Date.now() - started).toBeLessThan(5_000); // the 200 ms timeout answered, not the client
    } finally {
      redis.resume();
    }
    expect(await recovered(deny)).toEqual([200, 200]);
  });

  it('with onStoreError: "allow", lets requests through during an outage and reports every failure', async () => {
    const errorsBefore = allow.map((instance) => instance.storeErrors.length);
    await redis.stop();
    try {
      expect(await statuses(allow)).toEqual([200, 200]);
      expect(allow.map((instance, i) => instance.storeErrors.length - errorsBefore[i]!)).toEqual([1, 1]);
      expect(allow.map((instance) => instance.storeErrors.at(-1)?.reason)).toEqual([
        "revocation_unavailable",
        "revocation_unavailable",
      ]);
    } finally {
      await redis.restart();
    }
    expect(await recovered([...allow, ...deny])).toEqual([200, 200, 200, 200]);
  });

  it("saw the clients report the outage on their own error events, and nothing else went unhandled", () => {
    expect(clientErrors.length).toBeGreaterThan(0); // test/setup.ts fails the run on any unhandled rejection
  });
});
