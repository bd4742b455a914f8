// One HTTP app per process, so that the load generator (the parent) and the app get a core each.
// argv: <app> <alg> <jwksUri>. Answers the parent with its port over IPC, and with its CPU time
// over a window the parent opens and closes ("cpu-start", "cpu-stop").
import express from "express";
import Koa from "koa";
import { expressjwt } from "express-jwt";
import { auth } from "express-oauth2-jwt-bearer";
import koaJwt from "koa-jwt";
import jwksRsa from "jwks-rsa";
import { requireToken as expressToken } from "bearer-gate/express";
import { requireToken as koaToken } from "bearer-gate/koa";
import { createRevocationList } from "bearer-gate";
import { createRedisStore } from "bearer-gate/redis";
import { Redis } from "ioredis";
import { AUDIENCE, ISSUER, SECRET } from "./tokens.mjs";

const [name, alg, jwksUri] = process.argv.slice(2);

// The least a caching middleware can do: look the header up in a Map, check exp. It trusts what it
// finds, so it is a ceiling for comparison, not something to run.
const seen = new Map();
const floorAuth = (header) => {
  let claims = seen.get(header);
  if (claims === undefined) {
    claims = JSON.parse(Buffer.from(header.split(".")[1], "base64url").toString());
    seen.set(header, claims);
  }
  if (!(claims.exp > Date.now() / 1000)) throw new Error("expired");
  return claims;
};
const hs = alg === "HS256";
// the revocation list on a real Redis (the parent starts it): one MGET per request
const revocable = () => {
  const redis = new Redis(process.env.BENCH_REDIS_URL, { maxRetriesPerRequest: 1 });
  // a throwaway Redis that keeps nothing on disk, on purpose: its persistence warning is not news here
  const store = createRedisStore(redis, { onWarning: () => undefined });
  return { isRevoked: createRevocationList({ store }).isRevoked };
};
const ours = hs
  ? { secret: SECRET, issuer: ISSUER, audience: AUDIENCE }
  : { jwksUri, issuer: ISSUER, audience: AUDIENCE };

const expressApps = {
  "express bare": () => [],
  "express + floor cache": () => [
    (req, _res, next) => {
      req.auth = floorAuth(req.headers.authorization);
      next();
    },
  ],
  "express + bearer-gate": () => [expressToken(ours)],
  "express + bearer-gate + redis revocation": () => [expressToken({ ...ours, ...revocable() })],
  "express + express-jwt": () => [
    expressjwt({
      secret: hs ? SECRET : jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }),
      algorithms: [alg],
      issuer: ISSUER,
      audience: AUDIENCE,
    }),
  ],
  "express + express-oauth2-jwt-bearer": () => [
    hs
      ? auth({ issuer: ISSUER, audience: AUDIENCE, secret: SECRET, tokenSigningAlg: "HS256" })
      : auth({ issuer: ISSUER, audience: AUDIENCE, jwksUri }),
  ],
};
const koaApps = {
  "koa bare": () => [],
  "koa + floor cache": () => [
    async (ctx, next) => {
      ctx.state.auth = floorAuth(ctx.headers.authorization);
      await next();
    },
  ],
  "koa + bearer-gate": () => [koaToken(ours)],
  "koa + bearer-gate + redis revocation": () => [koaToken({ ...ours, ...revocable() })],
  "koa + koa-jwt": () => [
    koaJwt({
      secret: hs ? SECRET : jwksRsa.koaJwtSecret({ jwksUri, cache: true, rateLimit: true }),
      algorithms: [alg],
      issuer: ISSUER,
      audience: AUDIENCE,
    }),
  ],
};

let listener;
if (expressApps[name]) {
  const app = express();
  for (const middleware of expressApps[name]()) app.use(middleware);
  app.get("/", (_req, res) => res.json({ ok: true }));
  listener = app;
} else if (koaApps[name]) {
  const app = new Koa();
  for (const middleware of koaApps[name]()) app.use(middleware);
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  listener = app.callback();
} else {
  throw new Error(`unknown app ${name}`);
}

const { createServer } = await import("node:http");
const server = createServer(listener).listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
process.on("disconnect", () => process.exit(0));
// the parent measures this process's CPU time (user + system) over each measured window
let cpuMark;
process.on("message", (message) => {
  if (message === "cpu-start") {
    cpuMark = process.cpuUsage();
    process.send({ started: true });
  } else if (message === "cpu-stop") {
    const { user, system } = process.cpuUsage(cpuMark);
    process.send({ cpuMicros: user + system });
  }
});
