import type { RequestListener } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import request from "supertest";
import { ConfigError, type UnlessOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { BODY_401 } from "../fixtures/catalogue.js";
import { fixedClock, HMAC_SECRET, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";
import { thrownBy } from "../helpers.js";

// express-unless's and koa-unless's way of leaving some routes open, as migrating apps write it
const options = { secret: HMAC_SECRET, issuer: "Rooms-API-Internal-Access", clock: fixedClock };
type MakeApp = (unless: UnlessOptions | undefined) => RequestListener;

function expressApp(factory: typeof express): MakeApp {
  return (unless) =>
    factory()
      .use(expressGate.requireToken(options).unless(unless))
      .use((req, res) => res.json({ user: (req.auth as typeof req.auth | undefined)?.claims.sub ?? null }));
}

function koaApp(Framework: typeof Koa): MakeApp {
  return (unless) => {
    const app = new Framework();
    app.use(koaGate.requireToken(options).unless(unless));
    app.use((ctx) => {
      ctx.body = { user: (ctx.state.auth as typeof ctx.state.auth | undefined)?.claims.sub ?? null };
    });
    const callback = app.callback();
    return (req, res) => void callback(req, res);
  };
}

const OPEN = { path: ["/health", /^\/public\//, { url: "/docs", methods: ["GET"] }], method: "HEAD" };

describe.each<[string, MakeApp]>([
  ["Express 5", expressApp(express)],
  ["Express 4", expressApp(express4)],
  ["Koa 3", koaApp(Koa)],
  ["Koa 2", koaApp(Koa2)],
])("requireToken(...).unless() on %s", (_name, makeApp) => {
  it.each([
    ["GET", "/health"],
    ["GET", "/health?verbose=1"],
    ["POST", "/public/signup"],
    ["GET", "/docs"],
    ["HEAD", "/orders"],
  ])("lets %s %s through with no token", async (method, path) => {
    const res = await request(makeApp(OPEN))[method === "HEAD" ? "head" : method === "POST" ? "post" : "get"](path);
    expect(res.status).toBe(200);
  });

  it.each([
    ["GET", "/orders"],
    ["GET", "/health/deep"],
    ["GET", "/publicity"],
    ["POST", "/docs"],
    ["GET", "/HEALTH"],
  ])("still asks %s %s for a token", async (method, path) => {
    const res = await request(makeApp(OPEN))[method === "POST" ? "post" : "get"](path);
    expect([res.status, res.text]).toEqual([401, BODY_401]);
  });

  it("takes no token on an open route, and sets no auth even when one comes", async () => {
    const res = await request(makeApp(OPEN))
      .get("/health")
      .set("Authorization", `Bearer ${signHmac(roomsAccessClaims())}`);
    expect([res.status, res.body]).toEqual([200, { user: null }]);
  });

  it("lets a CORS preflight through by default, and not with preflight: false", async () => {
    const preflight = (app: RequestListener) =>
      request(app)
        .options("/orders")
        .set("Origin", "https://app.example.com")
        .set("Access-Control-Request-Method", "GET");
    expect((await preflight(makeApp(undefined))).status).not.toBe(401);
    expect((await preflight(makeApp({ path: "/health", preflight: false }))).status).toBe(401);
    // an OPTIONS request that is not a preflight still needs a token
    expect((await request(makeApp(undefined)).options("/orders")).status).toBe(401);
  });

  it("verifies tokens as before everywhere else", async () => {
    const res = await request(makeApp(OPEN))
      .get("/orders")
      .set("Authorization", `Bearer ${signHmac(roomsAccessClaims({ sub: "u-7" }))}`);
    expect([res.status, res.body]).toEqual([200, { user: "u-7" }]);
  });
});

describe("unless() is checked at start-up", () => {
  it.each([
    ["a path without a leading slash", { path: "health" }],
    ["a path of another type", { path: 7 }],
    ["a method that is not one", { method: "GET /" }],
    ["an unknown option", { paths: ["/health"] }],
    ["nothing to skip", { preflight: false }],
  ])("refuses %s", (_case, unless) => {
    for (const gate of [expressGate.requireToken(options), koaGate.requireToken(options)]) {
      expect(thrownBy(() => gate.unless(unless as UnlessOptions))).toBeInstanceOf(ConfigError);
    }
  });

  it("keeps ready(), status() and protectedResourceMetadata on what it returns", () => {
    const gate = expressGate.requireToken({
      ...options,
      resource: "https://api.example.com/mcp",
      issuer: "https://auth.example.com",
    });
    const open = gate.unless({ path: "/health" });
    expect(typeof open.ready).toBe("function");
    expect(open.status().ready).toBe(true);
    expect(() => expressGate.protectedResourceMetadata(open)).not.toThrow();
  });
});
