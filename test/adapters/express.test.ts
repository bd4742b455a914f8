import type { Express, NextFunction, Request, RequestHandler, Response } from "express";
import express from "express";
import express4 from "express4";
import request from "supertest";
import { ConfigError, TokenError } from "bearer-gate";
import {
  authErrorHandler,
  requireAnyScope,
  requireScope,
  requireToken,
  type ExpressOptions,
} from "bearer-gate/express";
import { withKeyEnv } from "../helpers.js";
import { faultSuite } from "./faults.js";
import { adapterSuite, GUARDS } from "./suite.js";
import { BODY_401, BODY_450, body403 } from "../fixtures/catalogue.js";
import { HMAC_SECRET, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";

type Factory = () => Express;

function makeApp(factory: Factory, options: ExpressOptions, calls: string[]): Express {
  const app = factory();
  app.use(requireToken(options));
  const handler: RequestHandler = (req, res) => {
    calls.push(req.path);
    const auth = req.auth as typeof req.auth | undefined; // absent with credentialsRequired: false
    res.json({ sub: auth?.claims.sub ?? null, scopes: auth?.scopes ?? null });
  };
  app.get("/", handler);
  for (const [path, { mode, scopes }] of Object.entries(GUARDS)) {
    app.get(path, (mode === "all" ? requireScope : requireAnyScope)(...scopes), handler);
  }
  return app;
}

adapterSuite("Express 5", (options, calls) => makeApp(express, options, calls));
faultSuite("Express 5", (options, calls) => makeApp(express, options, calls));
adapterSuite("Express 4", (options, calls) => makeApp(express4, options, calls));

describe("the Express adapter", () => {
  const hmac = { secret: HMAC_SECRET, issuer: "Rooms-API-Internal-Access" };
  const token = `Bearer ${signHmac(roomsAccessClaims({ exp: Math.floor(Date.now() / 1000) + 600 }))}`;

  it("types req.auth so handlers need no cast", async () => {
    const app = express().use(requireToken(hmac));
    app.get("/", (req, res) => {
      const uid: unknown = req.auth.claims["uid"];
      res.json({ uid, expiresIn: req.auth.expiresIn > 0, iss: req.auth.claims.iss });
    });
    const res = await request(app).get("/").set("Authorization", token);
    expect(res.body).toEqual({ uid: 2, expiresIn: true, iss: "Rooms-API-Internal-Access" });
  });

  it("passes failures to next(err) with respond: false, and authErrorHandler renders them", async () => {
    const seen: unknown[] = [];
    const app = express().use(requireToken({ ...hmac, respond: false }));
    app.get("/posts", requireScope("admin"), (_req, res) => res.json({ ok: true }));
    app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
      seen.push(err);
      next(err);
    });
    app.use(authErrorHandler());
    const missing = await request(app).get("/posts");
    expect([missing.status, missing.text, missing.headers["www-authenticate"]]).toEqual([401, BODY_401, "Bearer"]);
    const scope = await request(app).get("/posts").set("Authorization", token);
    expect([scope.status, scope.text]).toEqual([403, body403("admin")]);
    expect(seen.map((err) => err instanceof TokenError && err.reason)).toEqual(["missing_token", "insufficient_scope"]);
  });

  it("leaves errors other than TokenError to the next error handler", async () => {
    const app = express().get("/", () => {
      throw new Error("handler bug");
    });
    app.use(authErrorHandler());
    app.use(
      (_err: unknown, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ mine: true }),
    );
    const res = await request(app).get("/");
    expect([res.status, res.body]).toEqual([500, { mine: true }]);
  });

  it("does not report a handler's own error as an auth error", async () => {
    const app = express().use(requireToken(hmac));
    app.get("/", () => {
      throw new Error("handler bug");
    });
    app.use(
      (_err: unknown, _req: Request, res: Response, _next: NextFunction) =>
        void res.status(500).json({ handler: "failed" }),
    );
    const res = await request(app).get("/").set("Authorization", token);
    expect([res.status, res.body]).toEqual([500, { handler: "failed" }]);
  });

  it("answers a scope guard without requireToken with 401", async () => {
    const app = express().get("/", requireScope("posts"), (_req, res) => res.json({ ok: true }));
    const res = await request(app).get("/").set("Authorization", token);
    expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([401, BODY_401, "Bearer"]);
  });

  it("fails at startup, naming the variables, when nothing is configured", () =>
    withKeyEnv({}, () => {
      expect(() => requireToken()).toThrow(ConfigError);
      expect(() => requireToken()).toThrow(/JWT_SECRET.*COGNITO_USER_POOL_ID/);
      expect(() => requireScope()).toThrow(ConfigError);
      expect(() => requireToken({ secret: "" })).toThrow(ConfigError);
    }));

  it("reads JWT_SECRET from the environment when given no options", () =>
    withKeyEnv({ JWT_SECRET: HMAC_SECRET }, async () => {
      const app = express()
        .use(requireToken())
        .get("/", (_req, res) => res.json({ ok: true }));
      expect((await request(app).get("/").set("Authorization", token)).status).toBe(200);
      expect(
        (
          await request(app)
            .get("/")
            .set("Authorization", `Bearer ${signHmac(roomsAccessClaims({ exp: 1 }))}`)
        ).text,
      ).toBe(BODY_450);
    }));
});
