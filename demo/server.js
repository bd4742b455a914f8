// `npm run demo`: an Express API and a Koa API protected by bearer-gate, with no outside service and
// no configuration. A local test issuer (bearer-gate/testing) signs the tokens; curl lines are printed.
"use strict";
const { randomBytes } = require("node:crypto");
const express = require("express");
const Koa = require("koa");
const { createTestIssuer, hmacTokens } = require("bearer-gate/testing");
const expressGate = require("bearer-gate/express");
const koaGate = require("bearer-gate/koa");
const { errorResponse, TokenError } = require("bearer-gate");

/** Builds both demo apps and the example requests each answers. Call close() when done. */
async function createDemo() {
  // Express: Amazon Cognito-shaped RS256 tokens from a local JWKS
  const issuer = await createTestIssuer({ clientId: "demo-web" });
  const expressApp = express();
  expressApp.use(expressGate.requireToken(issuer.cognitoOptions()));
  expressApp.get("/me", (req, res) =>
    res.json({ sub: req.auth.claims.sub, scopes: req.auth.scopes, expiresIn: req.auth.expiresIn }),
  );
  expressApp.get("/posts", expressGate.requireScope("posts"), (_req, res) =>
    res.json({ posts: [{ id: 1, title: "Hello" }] }),
  );
  expressApp.get("/admin", expressGate.requireScope("admin"), (_req, res) => res.json({ secret: "admins only" }));

  // Koa: the API's own HS256 access and refresh tokens
  const hmac = hmacTokens(randomBytes(32).toString("hex"));
  const koaApp = new Koa();
  koaApp.use(koaGate.requireToken(hmac.options()));
  const koaRoutes = {
    "/me": [(ctx) => ({ sub: ctx.state.auth.claims.uid, scopes: ctx.state.auth.scopes })],
    "/posts": [koaGate.requireScope("posts"), () => ({ posts: [{ id: 1, title: "Hello" }] })],
    "/admin": [koaGate.requireScope("admin"), () => ({ secret: "admins only" })],
  };
  koaApp.use(async (ctx) => {
    const route = koaRoutes[ctx.path];
    if (route === undefined) return;
    const handler = route[route.length - 1];
    const answer = async () => {
      ctx.body = handler(ctx);
    };
    await (route.length > 1 ? route[0](ctx, answer) : answer());
  });

  // the same five requests against each app; only the tokens (and the wrong kind of token) differ
  const examples = ({ valid, expired, wrongKind, wrongKindLabel }) => [
    { label: "a valid access token", path: "/posts", token: valid, status: 200 },
    { label: "no token (code 401)", path: "/posts", token: undefined, status: 401, reason: "missing_token" },
    {
      label: "an expired token (code 450: refresh and retry)",
      path: "/posts",
      token: expired,
      status: 401,
      reason: "expired",
    },
    {
      label: `${wrongKindLabel} used as an access token (code 450)`,
      path: "/posts",
      token: wrongKind,
      status: 401,
      reason: "wrong_token_use",
    },
    {
      label: "a valid token without the admin scope (403, code 450)",
      path: "/admin",
      token: valid,
      status: 403,
      reason: "insufficient_scope",
    },
  ];
  return {
    express: {
      app: expressApp,
      examples: examples({
        valid: issuer.accessToken({ scope: "posts users" }),
        expired: issuer.accessToken({ expiresIn: -60 }),
        wrongKind: issuer.idToken(),
        wrongKindLabel: "an ID token",
      }),
    },
    koa: {
      app: koaApp,
      examples: examples({
        valid: hmac.access({ scope: "users,posts,camps" }),
        expired: hmac.access({ expiresIn: -60 }),
        wrongKind: hmac.refresh(),
        wrongKindLabel: "a refresh token",
      }),
    },
    close: () => issuer.close(),
  };
}

/**
 * Starts both apps on 127.0.0.1, Express on `port` and Koa on `port + 1` (0: any free ports), and
 * prints the curl lines. Resolves to a function that stops them; or, when a port is taken or
 * `port` is not one, says which and how to pick another and resolves to undefined.
 */
async function start(demo, port, out = console) {
  if (!Number.isInteger(port) || port < 0 || port > 65534) {
    out.error(`bearer-gate demo: PORT must be a port number (0 to 65534), got ${JSON.stringify(String(port))}.`);
    return undefined;
  }
  const apps = [
    ["Express (Amazon Cognito-shaped RS256 tokens)", demo.express.app, demo.express.examples, port],
    ["Koa (the API's own HS256 tokens)", demo.koa.app.callback(), demo.koa.examples, port === 0 ? 0 : port + 1],
  ];
  const servers = apps.map(([, listener]) => require("node:http").createServer(listener));
  const failures = await Promise.all(
    servers.map(
      (server, i) =>
        new Promise((resolve) => {
          server.once("error", resolve);
          server.listen(apps[i][3], "127.0.0.1", () => resolve(undefined));
        }),
    ),
  );
  const stop = () => {
    for (const server of servers) {
      if (server.listening) server.close();
      server.closeAllConnections();
    }
  };
  const failure = failures.find((error) => error !== undefined);
  if (failure !== undefined) {
    stop();
    const taken = failure.code === "EADDRINUSE" || failure.code === "EACCES";
    out.error(
      taken
        ? `bearer-gate demo: port ${failure.port} on 127.0.0.1 is ${failure.code === "EACCES" ? "not allowed" : "in use"}` +
            ` (the demo takes PORT and PORT + 1, ${port} and ${port + 1} now).\n` +
            "Pick others: PORT=4000 npm run demo (4000 and 4001), or PORT=0 npm run demo for any free ones."
        : `bearer-gate demo: could not listen on 127.0.0.1: ${failure.message}`,
    );
    return undefined;
  }
  servers.forEach((server, i) => {
    const [title, , examples] = apps[i];
    const base = `http://127.0.0.1:${server.address().port}`;
    const lines = examples.map(({ label, path, token, status, reason }) => {
      const header = token === undefined ? "" : ` -H "Authorization: Bearer ${token}"`;
      const body =
        reason === undefined
          ? ""
          : ` ${JSON.stringify(errorResponse(new TokenError(reason, reason === "insufficient_scope" ? ["admin"] : undefined)).body)}`;
      return `# ${label}: expect HTTP ${status}${body}\ncurl -i${header} ${base}${path}\n`;
    });
    out.log(`== ${title} on ${base}\n\n${lines.join("\n")}`);
  });
  out.log("bearer-gate demo: Ctrl-C to stop.\n");
  return stop;
}

async function main() {
  const demo = await createDemo();
  const raw = process.env.PORT;
  const stopServers = await start(demo, raw === undefined ? 3000 : /^\d+$/.test(raw) ? Number(raw) : raw);
  if (stopServers === undefined) {
    await demo.close();
    process.exitCode = 1;
    return;
  }
  const stop = () => {
    stopServers();
    void demo.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (require.main === module) void main();

module.exports = { createDemo, start };
