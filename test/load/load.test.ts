import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import autocannon from "autocannon";
import express from "express";
import Koa from "koa";
import { requireScope as expressScope, requireToken as expressToken } from "bearer-gate/express";
import { requireScope as koaScope, requireToken as koaToken } from "bearer-gate/koa";
import type { RequestListener } from "node:http";
import type { VerifierOptions } from "bearer-gate";
import { listen } from "../fixtures/http.js";
import { JwksServer, makeKey } from "../fixtures/jwks-server.js";
import { CLIENT_ID, cognitoAccessClaims, signRs256 } from "../fixtures/tokens.js";
import { SEED_POOL_ID } from "../fixtures/seeds.js";

// A bounded load (127.0.0.1, a few seconds) with a mix of tokens: every answer must be the one
// expected for its token, and the heap must come back to where it was.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const ISSUER = `https://cognito-idp.sa-east-1.amazonaws.com/${SEED_POOL_ID}`;
const DURATION_S = 2;

let keys: JwksServer;
let mix: { path: string; authorization: string; status: number }[];

beforeAll(async () => {
  const key = makeKey();
  keys = await JwksServer.start([key]);
  const now = Math.floor(Date.now() / 1000);
  const token = (claims: Record<string, unknown> = {}): string =>
    `Bearer ${signRs256(cognitoAccessClaims(ISSUER, { ...claims }, now), key)}`;
  mix = [
    { path: "/posts", authorization: token({ scope: "posts" }), status: 200 },
    { path: "/posts", authorization: token({ scope: "posts", exp: now - 5 }), status: 401 },
    { path: "/posts", authorization: token({ scope: "posts" }).slice(0, -6) + "AAAAAA", status: 401 },
    { path: "/posts", authorization: token({ scope: "users" }), status: 403 },
    { path: "/posts", authorization: "Basic dXNlcjpwYXNz", status: 401 },
  ];
});
afterAll(() => keys.close());

function options(): VerifierOptions {
  return { cognito: { userPoolId: SEED_POOL_ID, clientId: CLIENT_ID }, jwksUri: keys.jwksUri };
}

const apps: [string, () => RequestListener][] = [
  [
    "Express",
    () =>
      express()
        .use(expressToken(options()))
        .get("/posts", expressScope("posts"), (_req, res) => res.json({ ok: true })),
  ],
  [
    "Koa",
    () =>
      new Koa()
        .use(koaToken(options()))
        .use(koaScope("posts"))
        .use((ctx) => {
          ctx.body = { ok: true };
        })
        .callback(),
  ],
];

async function load(
  url: string,
  seconds: number,
): Promise<{ total: number; misclassified: number; errors: number; non2xx5xx: number }> {
  let misclassified = 0;
  let fiveHundreds = 0;
  const result = await autocannon({
    url,
    connections: 16,
    duration: seconds,
    requests: mix.map(({ path, authorization, status }) => ({
      method: "GET" as const,
      path,
      headers: { authorization },
      onResponse: (received: number) => {
        if (received !== status) misclassified += 1;
        if (received >= 500) fiveHundreds += 1;
      },
    })),
  });
  return {
    total: result.requests.total,
    misclassified,
    errors: result.errors + result.timeouts,
    non2xx5xx: fiveHundreds,
  };
}

describe.each(apps)("%s under a bounded mixed load", (name, build) => {
  it("answers every request as its token deserves, with no 5xx and no heap growth", async () => {
    const app = await listen(build());
    try {
      await load(app.url, 1); // warm up: keys fetched, code optimised
      gc();
      const before = process.memoryUsage().heapUsed;
      const run = await load(app.url, DURATION_S);
      gc();
      const after = process.memoryUsage().heapUsed;
      const growthMb = (after - before) / 1024 / 1024;
      console.log(
        `${name}: ${run.total} requests in ${DURATION_S} s (${Math.round(run.total / DURATION_S)}/s), ` +
          `misclassified ${run.misclassified}, 5xx ${run.non2xx5xx}, socket errors ${run.errors}, ` +
          `heap ${(before / 1048576).toFixed(1)} MB -> ${(after / 1048576).toFixed(1)} MB (${growthMb.toFixed(2)} MB)`,
      );
      expect(run.total).toBeGreaterThan(1000);
      expect([run.misclassified, run.non2xx5xx, run.errors]).toEqual([0, 0, 0]);
      expect(growthMb).toBeLessThan(5);
    } finally {
      await app.close();
    }
  });
});
