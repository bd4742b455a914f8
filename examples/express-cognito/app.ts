// An Express API whose users sign in with an Amazon Cognito user pool.
// Run it for real with COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID set; its test runs it against a
// local test issuer instead (app.test.ts).
import express, { type Express } from "express";
import { requireAnyScope, requireScope, requireToken, type ExpressOptions } from "bearer-gate/express";

export function createApp(options?: ExpressOptions): Express {
  const app = express();
  app.use(
    requireToken({
      ...options,
      onFailure: (error) =>
        console.log(JSON.stringify({ event: "auth_refused", reason: error.reason, status: error.status })),
    }),
  );
  app.get("/me", (req, res) => {
    res.json({ user: req.auth.claims.sub, username: req.auth.claims["username"], expiresIn: req.auth.expiresIn });
  });
  app.get("/posts", requireScope("posts"), (_req, res) => res.json([{ id: 1, title: "Hello" }]));
  app.delete("/posts/:id", requireScope("posts", "admin"), (req, res) => res.json({ deleted: req.params.id }));
  app.get("/feed", requireAnyScope("posts", "users"), (_req, res) => res.json({ items: [] }));
  return app;
}
