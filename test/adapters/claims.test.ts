import type { RequestListener } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import request from "supertest";
import { createVerifier } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { createTestIssuer, hmacTokens, type TestIssuer } from "bearer-gate/testing";
import { BODY_401, BODY_450 } from "../fixtures/catalogue.js";
import { rejectionOf } from "../helpers.js";

// gate.auth(req) / gate.auth(ctx): the auth context typed with the gate's claims, over real HTTP on
// Express 5 and 4 and Koa 3 and 2; and what a Cognito verifier checks so that CognitoClaims is true.
type MakeApp = (issuer: TestIssuer) => RequestListener;

function expressApp(factory: typeof express): MakeApp {
  return (issuer) => {
    const app = factory();
    const gate = expressGate.requireToken(issuer.cognitoOptions());
    // outside the gate: auth(req) has nothing to give, and says so with a 401
    app.get("/open", (req, res) => res.json({ user: gate.auth(req).claims.username }));
    app.use(gate);
    app.get("/me", (req, res) => {
      const { claims, scopes } = gate.auth(req);
      res.json({ user: claims.username, client: claims.client_id, groups: claims["cognito:groups"] ?? [], scopes });
    });
    app.use(expressGate.authErrorHandler());
    return app;
  };
}

function koaApp(Framework: typeof Koa): MakeApp {
  return (issuer) => {
    const app = new Framework();
    const gate = koaGate.requireToken(issuer.cognitoOptions());
    app.use(koaGate.authErrorHandler());
    app.use(async (ctx, next) => {
      if (ctx.path === "/open") ctx.body = { user: gate.auth(ctx).claims.username };
      else await next();
    });
    app.use(gate).use((ctx) => {
      const { claims, scopes } = gate.auth(ctx);
      ctx.body = { user: claims.username, client: claims.client_id, groups: claims["cognito:groups"] ?? [], scopes };
    });
    const callback = app.callback();
    return (req, res) => void callback(req, res);
  };
}

const FRAMEWORKS: readonly [string, MakeApp][] = [
  ["Express 5", expressApp(express)],
  ["Express 4", expressApp(express4)],
  ["Koa 3", koaApp(Koa)],
  ["Koa 2", koaApp(Koa2)],
];

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ clientId: "web" });
});
afterAll(() => issuer.close());

describe.each(FRAMEWORKS)("gate.auth() on %s", (_name, makeApp) => {
  it("hands the handler the gate's auth context, Cognito claims included", async () => {
    const token = issuer.accessToken({ username: "ana", scope: "posts users", "cognito:groups": ["editors"] });
    const res = await request(makeApp(issuer)).get("/me").set("Authorization", `Bearer ${token}`);
    expect([res.status, res.body]).toEqual([
      200,
      { user: "ana", client: "web", groups: ["editors"], scopes: ["posts", "users"] },
    ]);
  });

  it("answers 401 (code 401) where no requireToken let the request through", async () => {
    const token = issuer.accessToken();
    const res = await request(makeApp(issuer)).get("/open").set("Authorization", `Bearer ${token}`);
    expect([res.status, res.text]).toEqual([401, BODY_401]);
  });

  it("refuses a Cognito token whose claims are not what CognitoClaims says (450)", async () => {
    const token = issuer.accessToken({ "cognito:groups": "editors" });
    const res = await request(makeApp(issuer)).get("/me").set("Authorization", `Bearer ${token}`);
    expect([res.status, res.text]).toEqual([401, BODY_450]);
  });
});

describe("a Cognito verifier checks the claims CognitoClaims types", () => {
  const refusals: [string, Record<string, unknown>, string][] = [
    ["no sub", { sub: undefined }, "a Cognito token without a sub"],
    ["a numeric username", { username: 5 }, "username is not a string"],
    ["a client_id list", { client_id: ["web"] }, "client_id is not a string"],
    ["a scope list", { scope: ["posts"] }, "scope is not a string"],
    ["an origin_jti number", { origin_jti: 1 }, "origin_jti is not a string"],
    ["an event_id object", { event_id: {} }, "event_id is not a string"],
    ["an auth_time string", { auth_time: "yesterday" }, "auth_time is not a number"],
    ["groups as a string", { "cognito:groups": "admins" }, "cognito:groups is not a list of strings"],
    ["groups holding a number", { "cognito:groups": ["admins", 1] }, "cognito:groups is not a list of strings"],
  ];
  it.each(refusals)("refuses %s as malformed", async (_label, claims, detail) => {
    const verifier = createVerifier(issuer.cognitoOptions());
    const error = await rejectionOf(verifier.verifyToken(issuer.accessToken(claims)));
    expect(error).toMatchObject({ reason: "malformed_token" });
    expect((error as Error).cause).toEqual(new Error(detail));
  });

  it("checks the ID token's cognito:username, and leaves other verifiers' claims alone", async () => {
    const ids = createVerifier(issuer.cognitoOptions({ tokenUse: "id" }));
    expect(await rejectionOf(ids.verifyToken(issuer.idToken({ "cognito:username": 7 })))).toMatchObject({
      reason: "malformed_token",
    });
    const hmac = hmacTokens("a-test-secret-of-at-least-32-bytes!!");
    const auth = await createVerifier(hmac.options()).verifyToken(hmac.access({ username: 5, auth_time: "x" }));
    expect(auth.claims["username"]).toBe(5);
  });
});
