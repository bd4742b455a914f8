import express from "express";
import Koa from "koa";
import request from "supertest";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import {
  CHANNELS,
  ConfigError,
  createVerifier,
  KeySetError,
  TokenError,
  type GuardEvent,
  type KeySetEvent,
  type VerificationEvent,
} from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { JwksServer, makeKey } from "../fixtures/jwks-server.js";
import { fixedClock, HMAC_SECRET, roomsAccessClaims, signHmac, signRs256 } from "../fixtures/tokens.js";
import { eventually } from "../helpers.js";

// What the key sets are doing, for operators (issue 22): status() for readiness probes, ready({ waitMs })
// for a start-up that waits, and the warnings a person sees.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("status()", () => {
  it("tells each key set's state through a key server going down and coming back", async () => {
    const key = makeKey({ kid: "k-1" });
    const server = await JwksServer.start([key]);
    try {
      const fetch = { cacheMaxAgeMs: 100, staleIfErrorMs: 60_000, retryAfterFailureMs: 50 };
      const verifier = createVerifier({ jwksUri: server.jwksUri, clock: fixedClock, jwksFetch: fetch });
      expect(verifier.status()).toMatchObject({ ready: false, keySets: [{ usable: false, kids: [] }] });
      await verifier.ready();
      const up = verifier.status();
      expect(up).toMatchObject({
        ready: true,
        keySets: [{ uri: server.jwksUri, usable: true, stale: false, kids: ["k-1"], lastError: undefined }],
      });
      expect(up.keySets[0]?.downloadedAt).toBeInstanceOf(Date);
      await server.down();
      await sleep(150); // past its age: a request starts a refresh, which fails
      await verifier.verifyToken(signRs256(roomsAccessClaims(), key));
      const down = await eventually(() => {
        const status = verifier.status();
        expect(status.keySets[0]?.lastError).toMatch(/refused/);
        return status;
      });
      expect(down).toMatchObject({ ready: true, keySets: [{ usable: true, stale: true, kids: ["k-1"] }] });
      expect(down.keySets[0]?.lastErrorAt).toBeInstanceOf(Date);
      await server.up();
      await sleep(60);
      await verifier.verifyToken(signRs256(roomsAccessClaims(), key));
      await eventually(() =>
        expect(verifier.status().keySets[0]).toMatchObject({ stale: false, lastError: undefined }),
      );
    } finally {
      await server.close();
    }
  });

  it("has no key sets, and is ready, with a secret", () => {
    expect(createVerifier({ secret: HMAC_SECRET }).status()).toEqual({ ready: true, keySets: [] });
  });

  it("feeds a readiness probe in Express and in Koa: 503 until the keys are at hand, then 200", async () => {
    const server = await JwksServer.start();
    try {
      const options = { jwksUri: server.jwksUri, issuer: "x" };
      const expressGateway = expressGate.requireToken(options);
      const expressProbe = express().get("/ready", (_req, res) => {
        res.status(expressGateway.status().ready ? 200 : 503).end();
      });
      const koaGateway = koaGate.requireToken(options);
      const koaProbe = new Koa()
        .use((ctx) => {
          ctx.status = koaGateway.status().ready ? 200 : 503;
        })
        .callback();
      const probe = async () => [
        (await request(expressProbe).get("/ready")).status,
        (await request(koaProbe).get("/ready")).status,
      ];
      expect(await probe()).toEqual([503, 503]);
      await Promise.all([expressGateway.ready(), koaGateway.ready()]);
      expect(await probe()).toEqual([200, 200]);
    } finally {
      await server.close();
    }
  });
});

describe("ready({ waitMs })", () => {
  it("keeps trying until the key server comes up", async () => {
    const server = await JwksServer.start();
    const verifier = createVerifier({ jwksUri: server.jwksUri, issuer: "x" });
    try {
      await server.down();
      setTimeout(() => void server.up(), 400);
      await expect(verifier.ready({ waitMs: 5_000 })).resolves.toBeUndefined();
      expect(verifier.status().ready).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("rejects with the last cause once the time is up, and at once without waitMs", async () => {
    const server = await JwksServer.start();
    await server.down();
    try {
      const verifier = createVerifier({ jwksUri: server.jwksUri, issuer: "x" });
      const started = performance.now();
      const error = (await verifier.ready({ waitMs: 300 }).catch((rejected: unknown) => rejected)) as KeySetError;
      expect(error).toBeInstanceOf(KeySetError);
      expect(error.message).toMatch(/refused/);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      await expect(verifier.ready()).rejects.toBeInstanceOf(KeySetError);
      await expect(verifier.ready({ waitMs: -1 })).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await server.close();
    }
  });

  it("is there on the middleware of both adapters", async () => {
    const server = await JwksServer.start();
    try {
      for (const gate of [
        expressGate.requireToken({ jwksUri: server.jwksUri, issuer: "x" }),
        koaGate.requireToken({ jwksUri: server.jwksUri, issuer: "x" }),
      ]) {
        await gate.ready({ waitMs: 1_000 });
        expect(gate.status().ready).toBe(true);
      }
    } finally {
      await server.close();
    }
  });
});

describe("events on node:diagnostics_channel", () => {
  // what a subscriber of `name` hears, as the channel's payload type
  function listen<T>(name: string, events: T[] = []): { events: T[]; stop: () => void } {
    const listener = (message: unknown): void => void events.push(message as T);
    subscribe(name, listener);
    return { events, stop: () => unsubscribe(name, listener) };
  }

  it("tells each verification's outcome: accepted from a miss then a hit, refused with its reason", async () => {
    const key = makeKey({ kid: "k-1" });
    const server = await JwksServer.start([key]);
    const heard = listen<VerificationEvent>(CHANNELS.verification);
    try {
      const gate = expressGate.requireToken({ jwksUri: server.jwksUri, clock: fixedClock, name: "orders-api" });
      const app = express()
        .use(gate)
        .get("/", (_req, res) => void res.json({}));
      const token = signRs256(roomsAccessClaims(), key);
      for (const authorization of [`Bearer ${token}`, `Bearer ${token}`, "Bearer not.a.jwt"]) {
        await request(app).get("/").set("Authorization", authorization);
      }
      await request(app).get("/");
      expect(
        heard.events.map(({ outcome, reason, cache, algorithm, verifier }) => [
          outcome,
          reason,
          cache,
          algorithm,
          verifier,
        ]),
      ).toEqual([
        ["accepted", undefined, "miss", "RS256", "orders-api"],
        ["accepted", undefined, "hit", undefined, "orders-api"],
        ["refused", "malformed_token", "miss", undefined, "orders-api"],
        ["refused", "missing_token", "none", undefined, "orders-api"],
      ]);
      for (const event of heard.events) expect(event.durationMs).toBeGreaterThanOrEqual(0);
    } finally {
      heard.stop();
      await server.close();
    }
  });

  it("tells a guard's refusal apart, and onFailure's error names the guard", async () => {
    const heard = listen<GuardEvent>(CHANNELS.guard);
    const refused: TokenError[] = [];
    try {
      const gate = koaGate.requireToken({
        secret: HMAC_SECRET,
        clock: fixedClock,
        onFailure: (error) => void refused.push(error),
      });
      const app = new Koa()
        .use(gate)
        .use(koaGate.requireScope("admin"))
        .use((ctx) => {
          ctx.body = {};
        });
      const res = await request(app.callback())
        .get("/")
        .set("Authorization", `Bearer ${signHmac(roomsAccessClaims())}`);
      expect(res.status).toBe(403);
      expect(heard.events).toEqual([{ guard: "requireScope", reason: "insufficient_scope", required: ["admin"] }]);
      expect(refused.map((error) => [error.reason, error.guard])).toEqual([["insufficient_scope", "requireScope"]]);
      await request(app.callback()).get("/");
      expect(refused.map((error) => error.guard)).toEqual(["requireScope", undefined]); // requireToken's: authentication
    } finally {
      heard.stop();
    }
  });

  it("tells a key set's life: downloads, a rotation, an outage served stale, the recovery, a spent budget", async () => {
    const first = makeKey({ kid: "k-1" });
    const second = makeKey({ kid: "k-2" });
    const server = await JwksServer.start([first]);
    const heard = listen<KeySetEvent>(CHANNELS.keySet);
    const fetch = { cacheMaxAgeMs: 100, staleIfErrorMs: 60_000, retryAfterFailureMs: 30, refetchesPerMinute: 1 };
    const verifier = createVerifier({ jwksUri: server.jwksUri, clock: fixedClock, jwksFetch: fetch });
    try {
      await verifier.ready();
      server.keys = [second]; // a rotation: k-1 gone, k-2 new
      await sleep(120);
      await verifier.verifyToken(signRs256(roomsAccessClaims(), second)).catch(() => undefined);
      await eventually(() => expect(heard.events.filter((e) => e.type === "download-succeeded")).toHaveLength(2));
      await server.down();
      await sleep(120);
      await verifier.verifyToken(signRs256(roomsAccessClaims(), second));
      await eventually(() => expect(heard.events.map((e) => e.type)).toContain("serving-stale"));
      await server.up();
      await sleep(40);
      await verifier.verifyToken(signRs256(roomsAccessClaims(), second));
      await eventually(() => expect(heard.events.map((e) => e.type)).toContain("recovered"));
      // a fresh set and two unknown kids: the first spends the budget of one download a minute, the
      // second finds it spent
      const budget = createVerifier({
        jwksUri: server.jwksUri,
        clock: fixedClock,
        jwksFetch: { refetchesPerMinute: 1 },
      });
      await budget.ready();
      for (const kid of ["k-9", "k-10"]) {
        await budget.verifyToken(signRs256(roomsAccessClaims(), makeKey({ kid }))).catch(() => undefined);
      }
      const succeeded = heard.events.filter((e) => e.type === "download-succeeded");
      expect(succeeded[0]).toEqual({ type: "download-succeeded", uri: server.jwksUri, added: ["k-1"], removed: [] });
      expect(succeeded[1]).toEqual({
        type: "download-succeeded",
        uri: server.jwksUri,
        added: ["k-2"],
        removed: ["k-1"],
      });
      const failed = heard.events.find((e) => e.type === "download-failed");
      expect(failed).toEqual({
        type: "download-failed",
        uri: server.jwksUri,
        cause: expect.stringMatching(/refused/) as unknown,
      });
      expect(heard.events.map((e) => e.type)).toEqual(
        expect.arrayContaining(["download-started", "refetch-budget-spent"]),
      );
    } finally {
      heard.stop();
      await server.close();
    }
  });
});

describe("warnings a person sees", () => {
  it("says once that stale keys serve because downloads fail, and once that they recovered", async () => {
    const key = makeKey({ kid: "k-1" });
    const server = await JwksServer.start([key]);
    const spy = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const fetch = { cacheMaxAgeMs: 50, staleIfErrorMs: 60_000, retryAfterFailureMs: 20 };
      const verifier = createVerifier({ jwksUri: server.jwksUri, clock: fixedClock, jwksFetch: fetch });
      await verifier.ready();
      await server.down();
      for (let i = 0; i < 4; i++) {
        await sleep(60); // each past the back-off: another failed download
        await verifier.verifyToken(signRs256(roomsAccessClaims(), key));
      }
      await eventually(() => expect(verifier.status().keySets[0]?.lastError).toBeDefined());
      await server.up();
      await sleep(60);
      await verifier.verifyToken(signRs256(roomsAccessClaims(), key));
      await eventually(() =>
        expect(spy.mock.calls.map(([, options]) => (options as { code: string }).code)).toContain(
          "BEARER_GATE_KEYS_RECOVERED",
        ),
      );
      const codes = spy.mock.calls.map(([, options]) => (options as { code: string }).code);
      expect(codes).toEqual(["BEARER_GATE_KEYS_STALE", "BEARER_GATE_KEYS_RECOVERED"]);
      expect(String(spy.mock.calls[0]?.[0])).toMatch(
        new RegExp(`key set at ${server.jwksUri.replace(/[.?]/g, "\\$&")} could not be downloaded \\(.*refused`),
      );
    } finally {
      spy.mockRestore();
      await server.close();
    }
  });
});
