import type { RequestListener } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import request from "supertest";
import { ConfigError, type Claims, type VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { BODY_401, BODY_420, BODY_980, body403, GROUP, SCOPE, USER_REQUIRED } from "../fixtures/catalogue.js";
import { cognitoAccessClaims, fixedClock, HMAC_SECRET, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";
import { thrownBy } from "../helpers.js";

// requireGroup, requireUser and getScopes through real HTTP on Express 5 and 4 and Koa 3 and 2.
// Every app: requireToken, then the route's guard, then a handler that answers what it saw.
type Guard = "group" | "user" | "user:custom" | "scope" | "none";
interface Routes {
  readonly handled: string[];
}
type MakeApp = (options: VerifierOptions, routes: Routes) => RequestListener;

const POOL_ISSUER = "https://cognito-idp.sa-east-1.amazonaws.com/sa-east-1_6ygLpRK0e";
const options: VerifierOptions = { secret: HMAC_SECRET, clock: fixedClock };
// a bot's token (type "bot"), the API's user token, a Cognito user's and a Cognito machine's
const apiUser = signHmac(roomsAccessClaims());
const apiBot = signHmac(roomsAccessClaims({ type: "bot" }));
const cognitoUser = signHmac(cognitoAccessClaims(POOL_ISSUER, { "cognito:groups": ["editors", "beta"] }));
const cognitoMachine = signHmac(cognitoAccessClaims(POOL_ISSUER, { username: undefined, scope: "orders/read" }));
const GUARDS: Record<Exclude<Guard, "none">, string> = {
  group: "/admin",
  user: "/me",
  "user:custom": "/me-too",
  scope: "/posts",
};

function expressApp(factory: typeof express): MakeApp {
  return (gateOptions, routes) => {
    const app = factory();
    app.use(expressGate.requireToken(gateOptions));
    const answer = (path: string) => (req: express.Request, res: express.Response) => {
      routes.handled.push(path);
      res.json({ scopes: req.auth.scopes, groups: req.auth.groups });
    };
    app.get("/", answer("/"));
    app.get("/admin", expressGate.requireGroup("admins", "editors"), answer("/admin"));
    app.get("/me", expressGate.requireUser(), answer("/me"));
    app.get(
      "/me-too",
      expressGate.requireUser((claims) => claims["uid"] === 2),
      answer("/me-too"),
    );
    app.get("/posts", expressGate.requireScope("posts"), answer("/posts"));
    app.get(
      "/broken-user",
      expressGate.requireUser(() => "yes" as unknown as boolean),
      answer("/broken-user"),
    );
    return app;
  };
}

function koaApp(Framework: typeof Koa): MakeApp {
  return (gateOptions, routes) => {
    const app = new Framework();
    app.use(koaGate.requireToken(gateOptions));
    const guards: Record<string, Koa.Middleware> = {
      "/admin": koaGate.requireGroup("admins", "editors"),
      "/me": koaGate.requireUser(),
      "/me-too": koaGate.requireUser((claims) => claims["uid"] === 2),
      "/posts": koaGate.requireScope("posts"),
      "/broken-user": koaGate.requireUser(() => "yes" as unknown as boolean),
    };
    app.use(async (ctx, next) => {
      const guard = guards[ctx.path];
      await (guard === undefined ? next() : (guard(ctx, next) as Promise<void>));
    });
    app.use((ctx) => {
      routes.handled.push(ctx.path);
      ctx.body = { scopes: ctx.state.auth.scopes, groups: ctx.state.auth.groups };
    });
    const callback = app.callback();
    return (req, res) => void callback(req, res);
  };
}

const FRAMEWORKS: [string, MakeApp][] = [
  ["Express 5", expressApp(express)],
  ["Express 4", expressApp(express4)],
  ["Koa 3", koaApp(Koa)],
  ["Koa 2", koaApp(Koa2)],
];

describe.each(FRAMEWORKS)("%s: groups, users and the server's scopes over HTTP", (_name, makeApp) => {
  async function get(path: string, token: string, gateOptions: VerifierOptions = options) {
    const routes: Routes = { handled: [] };
    const res = await request(makeApp(gateOptions, routes)).get(path).set("Authorization", `Bearer ${token}`);
    return { res, handled: routes.handled };
  }

  it("requireGroup lets in a token in any listed group, with req.auth.groups as a list", async () => {
    const { res, handled } = await get(GUARDS.group, cognitoUser);
    expect([res.status, res.body]).toEqual([
      200,
      { scopes: ["aws.cognito.signin.user.admin", "posts", "users"], groups: ["editors", "beta"] },
    ]);
    expect(handled).toEqual(["/admin"]);
  });

  it("requireGroup answers 403 with code 450 listing the route's groups, and the handler never runs", async () => {
    const outsider = signHmac(cognitoAccessClaims(POOL_ISSUER, { "cognito:groups": ["readers"] }));
    for (const token of [outsider, apiUser]) {
      const { res, handled } = await get(GUARDS.group, token);
      expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([
        403,
        body403("admins", "editors"),
        GROUP,
      ]);
      expect(handled).toEqual([]);
    }
  });

  it("reads the groups from groupsClaim when told, and refuses a groups claim of the wrong type as malformed", async () => {
    const token = signHmac(roomsAccessClaims({ roles: "admins,ops" }));
    const { res } = await get(GUARDS.group, token, { ...options, groupsClaim: "roles" });
    expect([res.status, (res.body as { groups: string[] }).groups]).toEqual([200, ["admins", "ops"]]);
    const odd = signHmac(cognitoAccessClaims(POOL_ISSUER, { "cognito:groups": 7 }));
    expect((await get("/", odd)).res.status).toBe(401);
  });

  it.each([
    ["the API's user token (type user)", apiUser, 200],
    ["the API's bot token (type bot)", apiBot, 401],
    // the rule follows the verifier: this one is not Cognito's, so only `type` counts (the Cognito
    // verifier's rule is tested in reliability.test.ts)
    ["a Cognito user's token (username, no type)", cognitoUser, 401],
    ["a Cognito client-credentials token (no username)", cognitoMachine, 401],
  ])("requireUser() by default, with a secret: %s", async (_case, token, status) => {
    const { res, handled } = await get(GUARDS.user, token);
    expect(res.status).toBe(status);
    if (status === 401) {
      expect([res.text, res.headers["www-authenticate"], handled]).toEqual([BODY_420, USER_REQUIRED, []]);
    } else {
      expect(handled).toEqual(["/me"]);
    }
  });

  it("requireUser(isUser) replaces the rule; an answer that is not a boolean is a 980, never a pass", async () => {
    expect((await get(GUARDS["user:custom"], apiBot)).res.status).toBe(200); // uid 2
    expect((await get(GUARDS["user:custom"], cognitoUser)).res.status).toBe(401);
    const broken = await get("/broken-user", apiUser);
    expect([broken.res.status, broken.res.text, broken.handled]).toEqual([503, BODY_980, []]);
  });

  it("getScopes gives the server's scopes (a comma list, as the API keeps them), in place of the token's", async () => {
    const getScopes = jest.fn((claims: Claims) => (claims["atid"] === 36 ? "users,posts,camps" : ""));
    const token = signHmac(roomsAccessClaims({ scope: undefined }));
    for (let i = 0; i < 2; i++) {
      const { res, handled } = await get(GUARDS.scope, token, { ...options, getScopes });
      expect([res.status, (res.body as { scopes: string[] }).scopes, handled]).toEqual([
        200,
        ["users", "posts", "camps"],
        ["/posts"],
      ]);
    }
    const elsewhere = signHmac(roomsAccessClaims({ atid: 99, scope: "posts" }));
    const refused = await get(GUARDS.scope, elsewhere, { ...options, getScopes });
    expect([refused.res.status, refused.res.headers["www-authenticate"]]).toEqual([403, SCOPE("posts")]);
  });

  it("getScopes runs on every request, a cache hit too, and may answer with a promise of a list", async () => {
    let calls = 0;
    const getScopes = async (): Promise<string[]> => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
      return calls === 1 ? ["posts"] : [];
    };
    const gateOptions = { ...options, getScopes };
    const routes: Routes = { handled: [] };
    const app = makeApp(gateOptions, routes);
    const first = await request(app).get(GUARDS.scope).set("Authorization", `Bearer ${apiUser}`);
    const second = await request(app).get(GUARDS.scope).set("Authorization", `Bearer ${apiUser}`);
    expect([first.status, second.status, calls, routes.handled]).toEqual([200, 403, 2, ["/posts"]]);
  });

  it.each([
    [
      "throws",
      () => {
        throw new Error("database down");
      },
    ],
    ["rejects", () => Promise.reject(new Error("database down"))],
    ["answers a number", () => 7 as unknown as string],
    ["answers a list holding a number", () => ["posts", 7] as unknown as string[]],
    ["answers a promise of nothing", () => Promise.resolve(undefined as unknown as string)],
  ])("getScopes that %s answers 980, and the handler never runs", async (_case, getScopes) => {
    const { res, handled } = await get(GUARDS.scope, apiUser, { ...options, getScopes });
    expect([res.status, res.text, handled]).toEqual([503, BODY_980, []]);
  });

  it("every guard answers 401 when no token was verified before it (credentialsRequired: false)", async () => {
    for (const path of Object.values(GUARDS)) {
      const routes: Routes = { handled: [] };
      const res = await request(makeApp({ ...options, credentialsRequired: false }, routes)).get(path);
      expect([res.status, res.text, routes.handled]).toEqual([401, BODY_401, []]);
    }
  });
});

describe("the guards check their arguments at startup", () => {
  it.each([
    ["requireGroup()", () => expressGate.requireGroup()],
    ["requireGroup with an empty name", () => koaGate.requireGroup("")],
    ["requireGroup with a space in a name", () => expressGate.requireGroup("site admins")],
    ["requireUser with a non-function", () => koaGate.requireUser("user" as never)],
    ["getScopes that is not a function", () => expressGate.requireToken({ ...options, getScopes: "users" as never })],
    ["an empty groupsClaim", () => koaGate.requireToken({ ...options, groupsClaim: "" })],
  ])("%s is a ConfigError", (_case, build) => {
    expect(thrownBy(build)).toBeInstanceOf(ConfigError);
  });
});
