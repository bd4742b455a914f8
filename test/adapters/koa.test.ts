import Koa, { type Middleware } from "koa";
import Koa2 from "koa2";
import request from "supertest";
import { ConfigError, TokenError } from "bearer-gate";
import { authErrorHandler, requireAnyScope, requireScope, requireToken, type KoaOptions } from "bearer-gate/koa";
import { withKeyEnv } from "../helpers.js";
import { faultSuite } from "./faults.js";
import { adapterSuite, GUARDS } from "./suite.js";
import { BODY_401, body403 } from "../fixtures/catalogue.js";
import { HMAC_SECRET, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";

type KoaClass = typeof Koa;

// A minimal router: the guard for the path, then the handler.
function makeApp(App: KoaClass, options: KoaOptions, calls: string[]): Koa {
  const app = new App();
  app.use(requireToken(options));
  const guards = new Map<string, Middleware>(
    Object.entries(GUARDS).map(([path, { mode, scopes }]) => [
      path,
      (mode === "all" ? requireScope : requireAnyScope)(...scopes),
    ]),
  );
  app.use(async (ctx, next) => {
    const handler = (): Promise<void> => {
      calls.push(ctx.path);
      const auth = ctx.state.auth as typeof ctx.state.auth | undefined; // absent with credentialsRequired: false
      ctx.body = { sub: auth?.claims.sub ?? null, scopes: auth?.scopes ?? null };
      return Promise.resolve();
    };
    const guard = guards.get(ctx.path);
    await (guard ? guard(ctx, handler) : handler());
    await next();
  });
  return app;
}

adapterSuite("Koa 3", (options, calls) => makeApp(Koa, options, calls).callback());
faultSuite("Koa 3", (options, calls) => makeApp(Koa, options, calls).callback());
adapterSuite("Koa 2", (options, calls) => makeApp(Koa2, options, calls).callback());

describe("the Koa adapter", () => {
  const hmac = { secret: HMAC_SECRET, issuer: "Rooms-API-Internal-Access" };
  const token = `Bearer ${signHmac(roomsAccessClaims({ exp: Math.floor(Date.now() / 1000) + 600 }))}`;

  it("types ctx.state.auth so handlers need no cast", async () => {
    const app = new Koa().use(requireToken(hmac)).use((ctx) => {
      ctx.body = { iss: ctx.state.auth.claims.iss, scopes: ctx.state.auth.scopes };
    });
    const res = await request(app.callback()).get("/").set("Authorization", token);
    expect(res.body).toEqual({ iss: "Rooms-API-Internal-Access", scopes: ["users", "posts", "camps"] });
  });

  it("throws failures with respond: false, and authErrorHandler renders them", async () => {
    const seen: unknown[] = [];
    const app = new Koa();
    app.use(authErrorHandler());
    app.use(async (_ctx, next) => {
      try {
        await next();
      } catch (err) {
        seen.push(err);
        throw err;
      }
    });
    app.use(requireToken({ ...hmac, respond: false }));
    app.use(requireScope("admin"));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const missing = await request(app.callback()).get("/");
    expect([missing.status, missing.text, missing.headers["www-authenticate"]]).toEqual([401, BODY_401, "Bearer"]);
    const scope = await request(app.callback()).get("/").set("Authorization", token);
    expect([scope.status, scope.text]).toEqual([403, body403("admin")]);
    expect(seen.map((err) => err instanceof TokenError && err.reason)).toEqual(["missing_token", "insufficient_scope"]);
  });

  it("does not report a handler's own error as an auth error, and lets other errors through authErrorHandler", async () => {
    const app = new Koa();
    app.silent = true;
    app
      .use(authErrorHandler())
      .use(requireToken(hmac))
      .use(() => {
        throw new Error("handler bug");
      });
    const res = await request(app.callback()).get("/").set("Authorization", token);
    expect([res.status, res.text]).toEqual([500, "Internal Server Error"]);
  });

  it("answers a scope guard without requireToken with 401", async () => {
    const app = new Koa().use(requireScope("posts")).use((ctx) => {
      ctx.body = { ok: true };
    });
    const res = await request(app.callback()).get("/").set("Authorization", token);
    expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([401, BODY_401, "Bearer"]);
  });

  it("fails at startup, naming the variables, when nothing is configured", () =>
    withKeyEnv({}, () => {
      expect(() => requireToken()).toThrow(ConfigError);
      expect(() => requireToken()).toThrow(/JWT_SECRET.*COGNITO_USER_POOL_ID/);
      expect(() => requireAnyScope("a b")).toThrow(ConfigError);
    }));
});
