import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { RequestListener } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import request from "supertest";
import {
  createMemoryStore,
  createRevocationList,
  TokenError,
  type RevocationStore,
  type VerifierOptions,
} from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { BODY_401, BODY_450, BODY_980 } from "../fixtures/catalogue.js";
import { get, listen, type Listening } from "../fixtures/http.js";
import { JwksServer, makeKey, type TestKey } from "../fixtures/jwks-server.js";
import { SEED_POOL_ID } from "../fixtures/seeds.js";
import {
  CLIENT_ID,
  cognitoAccessClaims,
  HMAC_SECRET,
  roomsAccessClaims,
  signHmac,
  signRs256,
} from "../fixtures/tokens.js";
import { eventually } from "../helpers.js";
import { POOL_ISSUER } from "./cases.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const TIMEOUT_BODY = '{"timeout":true}';
const hmac = { secret: HMAC_SECRET, issuer: "Rooms-API-Internal-Access" };
const hmacToken = (claims: Record<string, unknown> = {}): string =>
  signHmac(roomsAccessClaims({ exp: Math.floor(Date.now() / 1000) + 600, ...claims }));

/** What a test observes of one app: the handler's runs and the hooks' calls. */
interface Seen {
  handled: number;
  failures: string[];
}

/**
 * One framework's app: an optional timeout middleware first (it answers 503 after `timeoutMs`, as
 * connect-timeout and koa-timeout do, while the request goes on below it), then requireToken,
 * then a handler that tries to add "admin" to the token's groups and answers the groups it sees.
 */
interface Framework {
  readonly name: string;
  readonly app: (options: VerifierOptions, seen: Seen, timeoutMs?: number) => RequestListener;
}

function expressApp(factory: typeof express): Framework["app"] {
  return (options, seen, timeoutMs) => {
    const app = factory();
    if (timeoutMs !== undefined) {
      app.use((_req, res, next) => {
        setTimeout(() => {
          if (!res.headersSent) res.status(503).type("json").send(TIMEOUT_BODY);
        }, timeoutMs).unref();
        next();
      });
    }
    app.use(expressGate.requireToken({ ...options, onFailure: (error) => seen.failures.push(error.reason) }));
    app.get("/", (req, res) => {
      seen.handled += 1;
      res.json({ groups: tryToAddAdmin(req.auth.claims["groups"]) });
    });
    return app;
  };
}

function koaApp(Framework: typeof Koa): Framework["app"] {
  return (options, seen, timeoutMs) => {
    const app = new Framework();
    if (timeoutMs !== undefined) {
      app.use(async (ctx, next) => {
        await Promise.race([next(), sleep(timeoutMs)]);
        if (!ctx.headerSent && ctx.body === undefined) {
          ctx.status = 503;
          ctx.type = "json";
          ctx.body = TIMEOUT_BODY;
        }
      });
    }
    app.use(koaGate.requireToken({ ...options, onFailure: (error) => seen.failures.push(error.reason) }));
    app.use((ctx) => {
      seen.handled += 1;
      ctx.body = { groups: tryToAddAdmin(ctx.state.auth.claims["groups"]) };
    });
    const callback = app.callback();
    return (req, res) => void callback(req, res);
  };
}

// a handler that mutates what it was given: it must not change what the next request sees
function tryToAddAdmin(groups: unknown): unknown {
  try {
    if (Array.isArray(groups)) groups.push("admin");
  } catch {
    // frozen: the push throws in strict mode
  }
  return groups;
}

const FRAMEWORKS: Framework[] = [
  { name: "Express 5", app: expressApp(express) },
  { name: "Express 4", app: expressApp(express4) },
  { name: "Koa 3", app: koaApp(Koa) },
  { name: "Koa 2", app: koaApp(Koa2) },
];

describe.each(FRAMEWORKS)("$name", ({ app }) => {
  let server: JwksServer;
  let key: TestKey;
  const running: Listening[] = [];

  beforeAll(async () => {
    key = makeKey();
    server = await JwksServer.start([key]);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((listening) => listening.close()));
  });
  afterAll(() => server.close());

  async function lateKeyServer(mode: "serve" | "error500"): Promise<{ url: string; seen: Seen }> {
    Object.assign(server, { mode, delayMs: 400, requests: 0 });
    const seen: Seen = { handled: 0, failures: [] };
    const options: VerifierOptions = {
      cognito: { userPoolId: SEED_POOL_ID, clientId: CLIENT_ID },
      jwksUri: server.jwksUri,
      jwksFetch: { timeoutMs: 2000 },
    };
    const listening = await listen(app(options, seen, 100));
    running.push(listening);
    return { url: listening.url, seen };
  }
  const cognitoToken = (): string =>
    `Bearer ${signRs256(cognitoAccessClaims(POOL_ISSUER, {}, Date.now() / 1000), key)}`;

  it("writes nothing and never crashes when a timeout answered before the key server failed", async () => {
    const { url, seen } = await lateKeyServer("error500");
    const res = await get(url, { authorization: cognitoToken() });
    expect([res.status, res.text]).toEqual([503, TIMEOUT_BODY]);
    await eventually(() => expect(seen.failures).toEqual(["keys_unavailable"])); // heard, not written
    await sleep(50); // test/setup.ts fails the test on any unhandled rejection meanwhile
    expect(seen.handled).toBe(0);
  });

  it("runs no handler when a timeout answered before the token was verified", async () => {
    const { url, seen } = await lateKeyServer("serve");
    const res = await get(url, { authorization: cognitoToken() });
    expect([res.status, res.text]).toEqual([503, TIMEOUT_BODY]);
    await eventually(() => expect(server.requests).toBe(1));
    await sleep(500); // the download answers after 400 ms; then the verification ends
    expect([seen.handled, seen.failures]).toEqual([0, []]);
  });

  it("answers a hit exactly as a miss: a handler's push to a claim's list reaches no later request", async () => {
    const seen: Seen = { handled: 0, failures: [] };
    const target = app(hmac, seen);
    const token = `Bearer ${hmacToken({ groups: ["readers"] })}`;
    const first = await request(target).get("/").set("Authorization", token); // a miss: verified, cached
    const second = await request(target).get("/").set("Authorization", token); // a hit
    expect([first.status, first.body, second.status, second.body]).toEqual([
      200,
      { groups: ["readers"] },
      200,
      { groups: ["readers"] },
    ]);
  });
});

describe.each([
  ["Express 5", express],
  ["Express 4", express4],
])("%s: the README's /logout when the revocation store is down", (_name, factory) => {
  it("answers 980 (503) through authErrorHandler, and nothing crashes", async () => {
    const down = (): Promise<never> => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    const store: RevocationStore = { ...createMemoryStore(), revokeId: down, revokeSubject: down, lookup: down };
    const reported: string[] = [];
    const revocations = createRevocationList({
      store,
      onStoreError: "allow",
      onError: (error) => reported.push(error.reason),
    });
    const app = factory();
    app.use(expressGate.requireToken({ ...hmac, isRevoked: revocations.isRevoked }));
    // as the README writes it: the rejection goes to next(error), which Express 4 does not do by itself
    app.post("/logout", async (req, res, next) => {
      try {
        await revocations.revoke(req.auth.claims);
        res.sendStatus(204);
      } catch (error) {
        next(error);
      }
    });
    app.use(expressGate.authErrorHandler());
    const res = await request(app).post("/logout").set("Authorization", `Bearer ${hmacToken()}`);
    expect([res.status, res.text]).toEqual([503, BODY_980]);
    expect(reported).toEqual(["revocation_unavailable"]); // the check was let through, and heard of
  });
});

describe.each([
  ["Koa 3", Koa],
  ["Koa 2", Koa2],
])("%s over HTTP/2 (h2c, Node's own client)", (_name, Framework) => {
  let server: http2.Http2Server;
  let client: http2.ClientHttp2Session;
  const handled: string[] = [];

  beforeAll(async () => {
    const app = new Framework();
    app.use(koaGate.requireToken(hmac));
    app.use((ctx) => {
      handled.push(ctx.path);
      ctx.body = { uid: ctx.state.auth.claims["uid"] };
    });
    const callback = app.callback();
    server = http2.createServer((req, res) => void callback(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  function send(headers: http2.OutgoingHttpHeaders): Promise<{ status: number; text: string; challenge: unknown }> {
    return new Promise((resolve, reject) => {
      const stream = client.request({ ":path": "/", ...headers });
      let status = 0;
      let challenge: unknown;
      let text = "";
      stream.on("response", (head) => {
        status = Number(head[":status"]);
        challenge = head["www-authenticate"];
      });
      stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      stream.on("end", () => resolve({ status, text, challenge }));
      stream.on("error", reject);
      stream.end();
    });
  }

  it("reads the Authorization header and lets a valid token through", async () => {
    expect(await send({ authorization: `Bearer ${hmacToken()}` })).toEqual({
      status: 200,
      text: '{"uid":2}',
      challenge: undefined,
    });
    expect(handled).toEqual(["/"]);
  });

  it("answers 401 to a request without credentials and 450 to a bad token, as over HTTP/1.1", async () => {
    expect(await send({})).toEqual({ status: 401, text: BODY_401, challenge: "Bearer" });
    const forged = `Bearer ${hmacToken().slice(0, -4)}AAAA`;
    expect(await send({ authorization: forged })).toMatchObject({ status: 401, text: BODY_450 });
  });
});

describe("a TokenError of the other build", () => {
  it("is recognised by instanceof through its shared brand, but not an error that merely looks alike", () => {
    const lookalike = Object.assign(new Error("x"), { reason: "expired", code: 450, status: 401 });
    expect(lookalike instanceof TokenError).toBe(false);
    const branded = Object.assign(new Error("x"), { [Symbol.for("bearer-gate.TokenError")]: true });
    expect(branded instanceof TokenError).toBe(true);
  });
});
