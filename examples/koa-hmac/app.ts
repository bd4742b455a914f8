// A Koa API that issues its own HS256 access and refresh tokens and accepts only the access ones.
// Run it for real with JWT_SECRET set; its test signs tokens with the testing kit (app.test.ts).
import Koa from "koa";
import { requireScope, requireToken, type KoaOptions } from "bearer-gate/koa";

export function createApp(options: KoaOptions, metrics: Map<string, number> = new Map()): Koa {
  const app = new Koa();
  app.use(
    requireToken({
      ...options,
      // a counter of refusals by reason, for a metrics endpoint
      onFailure: (error) => metrics.set(error.reason, (metrics.get(error.reason) ?? 0) + 1),
    }),
  );
  const campsGuard = requireScope("camps"); // built once, at startup
  app.use(async (ctx, next) => {
    if (ctx.path !== "/camps") {
      await next();
      return;
    }
    await campsGuard(ctx, () => {
      ctx.body = { camps: [], user: ctx.state.auth.claims["uid"] };
      return Promise.resolve();
    });
  });
  app.use((ctx) => {
    if (ctx.path === "/me") ctx.body = { user: ctx.state.auth.claims["uid"], scopes: ctx.state.auth.scopes };
  });
  return app;
}
