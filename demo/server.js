// `npm run demo`: an Express API protected by bearer-gate, with no outside service and no
// configuration. It signs its own HS256 tokens with a random secret and prints curl lines to try.
"use strict";
const { randomBytes, randomUUID } = require("node:crypto");
const express = require("express");
const jwt = require("jsonwebtoken");
const { requireScope, requireToken } = require("bearer-gate/express");

/** Builds the demo app, its secret and the example requests it answers. */
function createDemo(secret = randomBytes(32).toString("hex")) {
  const issuer = "bearer-gate-demo";
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims) =>
    jwt.sign({ iss: issuer, sub: "demo-user", jti: randomUUID(), iat: now, ...claims }, secret, { noTimestamp: true });
  const access = sign({ token_type: "access", scope: "posts,users", exp: now + 3600 });
  const tokens = {
    access,
    expired: sign({ token_type: "access", scope: "posts,users", exp: now - 60 }),
    refresh: sign({ token_type: "refresh", exp: now + 86_400 }),
  };

  const app = express();
  app.use(requireToken({ secret, issuer }));
  app.get("/me", (req, res) =>
    res.json({ sub: req.auth.claims.sub, scopes: req.auth.scopes, expiresIn: req.auth.expiresIn }),
  );
  app.get("/posts", requireScope("posts"), (_req, res) => res.json({ posts: [{ id: 1, title: "Hello" }] }));
  app.get("/admin", requireScope("admin"), (_req, res) => res.json({ secret: "admins only" }));

  const examples = [
    { label: "a valid access token", path: "/posts", token: tokens.access, status: 200 },
    { label: "no token", path: "/posts", token: undefined, status: 401 },
    { label: "an expired token (code 450: refresh and retry)", path: "/posts", token: tokens.expired, status: 401 },
    { label: "a refresh token used as an access token (code 450)", path: "/posts", token: tokens.refresh, status: 401 },
    { label: "a valid token without the admin scope (403)", path: "/admin", token: tokens.access, status: 403 },
  ];
  return { app, secret, tokens, examples };
}

function main() {
  const { app, examples } = createDemo();
  const port = Number(process.env.PORT ?? 3000);
  const server = app.listen(port, "127.0.0.1", () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    console.log(`bearer-gate demo listening on ${base} (Ctrl-C to stop)\n`);
    for (const { label, path, token, status } of examples) {
      const header = token === undefined ? "" : ` -H "Authorization: Bearer ${token}"`;
      console.log(`# ${label}: expect HTTP ${status}\ncurl -i${header} ${base}${path}\n`);
    }
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (require.main === module) main();

module.exports = { createDemo };
