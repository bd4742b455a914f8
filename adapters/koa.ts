import type { Context, DefaultState, Middleware, Next } from "koa";
import {
  errorResponse,
  optionsFromEnv,
  readAuthorization,
  TokenError,
  type AuthContext,
  type Claims,
  type CognitoClaims,
  type VerifierOptions,
} from "../src/index.js";
import {
  claimJudge,
  groupJudge,
  judgeRequest,
  scopeJudge,
  userJudge,
  type ClaimPath,
  type ClaimRequirement,
  type Judge,
} from "../src/access/guards.js";
import { pathOf, unlessRule, type UnlessOptions } from "../src/access/unless.js";
import {
  ANSWER,
  HANDLING,
  type Handled as SharedHandled,
  type Handling as SharedHandling,
} from "../src/access/handling.js";
import { checkHooks, observe } from "../src/errors/hooks.js";
import { inEnvTerms } from "../src/options/env.js";
import type { WithCognito } from "../src/options/options.js";
import { createGate } from "../src/verifier.js";
import { metadataAnswer, type ProtectedResource } from "../src/resource/metadata.js";
import { ConfigError, type ReadyOptions, type VerifierStatus } from "../src/index.js";

/* eslint-disable @typescript-eslint/no-namespace, @typescript-eslint/no-empty-object-type -- global declarations */
declare global {
  namespace BearerGate {
    /**
     * The auth context on `ctx.state.auth` (and Express's `req.auth`). One global interface, so that
     * the ESM and CommonJS builds' declarations agree in a program that loads both.
     */
    interface RequestAuth extends AuthContext {}
  }
}
/* eslint-enable @typescript-eslint/no-namespace, @typescript-eslint/no-empty-object-type */

declare module "koa" {
  interface DefaultState {
    /** Set by `requireToken()`; absent only on routes it does not guard or with `credentialsRequired: false`. */
    auth: BearerGate.RequestAuth;
  }
}

/**
 * `requireToken` options: the verifier's, plus how failures are answered and observed. `C` types
 * your claims, as in `AuthContext<C>`.
 */
export interface KoaOptions<C extends object = Claims> extends VerifierOptions<Context, C> {
  /** Default `true`: answer failures here. `false`: throw the `TokenError` for the app's own error middleware. */
  respond?: boolean | undefined;
  /**
   * Called for every refused request (scope guards' too), with the `TokenError`; never with the
   * token. For logs and metrics: never awaited, and a throw or a rejected promise never changes the
   * answer (it is told once, as a `BEARER_GATE_HOOK_FAILED` process warning).
   */
  onFailure?:
    ((error: TokenError, ctx: Context) => void) | ((error: TokenError, ctx: Context) => Promise<void>) | undefined;
  /** Called for every request let through, with its auth context; like `onFailure`, only observes. */
  onSuccess?:
    | ((auth: AuthContext<C>, ctx: Context) => void)
    | ((auth: AuthContext<C>, ctx: Context) => Promise<void>)
    | undefined;
}

type Handling = SharedHandling<NonNullable<KoaOptions["onFailure"]>>;
type Handled = SharedHandled<NonNullable<KoaOptions["onFailure"]>>;
// the protected resource of each requireToken that has one, for protectedResourceMetadata(gate)
const RESOURCES = new WeakMap<object, ProtectedResource>();

/**
 * What `requireToken` returns: the middleware (typed so that `app.use(gate)` gives the middleware
 * chained after it `ctx.state.auth` with this gate's claims), `ready()` to await before listening,
 * and `auth(ctx)`.
 */
export type TokenMiddleware<C extends object = Claims> = Middleware<DefaultState & { auth: AuthContext<C> }> & {
  /**
   * Resolves once the keys are at hand (the key set downloaded, holding a usable key); rejects
   * with a `KeySetError` naming the URL and the cause. `await gate.ready()` before `app.listen()`.
   */
  readonly ready: (options?: ReadyOptions) => Promise<void>;
  /** What the key sets are doing now, for a readiness probe: `gate.status().ready`. */
  readonly status: () => VerifierStatus;
  /**
   * `ctx.state.auth`, typed with this gate's claims (`CognitoClaims` for `cognito`, or your `C`).
   * Throws a `TokenError` (`missing_token`, 401) for a request no `requireToken` let through.
   */
  readonly auth: (ctx: Context) => AuthContext<C>;
  /**
   * This middleware, skipping the requests `options` name (koa-unless's options): paths as strings
   * or regular expressions (or `{ url, methods }`), methods, and CORS preflights by default. A
   * skipped request goes on with no `ctx.state.auth`.
   * @example app.use(gate.unless({ path: ["/health", /^\/public\//] }));
   */
  readonly unless: (options?: UnlessOptions) => TokenMiddleware<C>;
};

/**
 * Verifies the request's bearer token and stores the auth context on `ctx.state.auth`; with no
 * options it reads the environment (`JWT_SECRET`, `COGNITO_USER_POOL_ID`, ...). A bad option throws here, at startup.
 * @example app.use(requireToken({ secret: process.env.JWT_SECRET }));
 */
export function requireToken<C extends object = CognitoClaims>(
  options: KoaOptions<C> & WithCognito,
): TokenMiddleware<C>;
export function requireToken<C extends object = Claims>(options?: KoaOptions<C>): TokenMiddleware<C>;
export function requireToken<C extends object>(options?: KoaOptions<C>): TokenMiddleware<C> {
  const given: KoaOptions<C> = options ?? optionsFromEnv(process.env);
  const { respond = true, onFailure, onSuccess, ...verifierOptions } = given;
  checkHooks("`onFailure` and `onSuccess`", onFailure, onSuccess);
  // options from the environment are complained about in its variables' names
  const gate = inEnvTerms(given, () => createGate<Context, C>(verifierOptions));
  const handling: Handling = { respond, onFailure, challenge: gate.challenge };
  function pass(ctx: Context, next: Next, auth: AuthContext<C> | undefined): Promise<void> | undefined {
    if (ctx.headerSent) return undefined; // someone else answered while the keys came: nothing to go on to
    if (auth !== undefined) {
      ctx.state.auth = auth;
      if (onSuccess !== undefined) observe("onSuccess", onSuccess, auth, ctx);
    }
    return next(); // outside any try, so a handler's own error is never reported as an auth error
  }
  // Not async: a cache hit or a key at hand goes on in the same tick, with no promise of its own.
  const middleware: Middleware = function requireToken(ctx: Context, next: Next) {
    (ctx as Handled)[HANDLING] = handling;
    // RFC 9449 §8.2: with server nonces, every response hands out the current one
    if (gate.nonce !== undefined) ctx.set("DPoP-Nonce", gate.nonce());
    let answer: AuthContext<C> | undefined | Promise<AuthContext<C> | undefined>;
    try {
      answer = gate.authenticateNow(ctx, readAuthorization(ctx.req), ctx.req, ctx.originalUrl);
    } catch (error) {
      return fail(ctx, error);
    }
    if (!(answer instanceof Promise)) return pass(ctx, next, answer);
    return answer.then(
      (auth) => pass(ctx, next, auth),
      (error: unknown) => fail(ctx, error),
    );
  };
  const withGate = (handler: Middleware): TokenMiddleware<C> => {
    const tokenMiddleware = Object.assign(handler as Middleware<DefaultState & { auth: AuthContext<C> }>, {
      ready: (options?: ReadyOptions) => gate.verifier.ready(options),
      status: () => gate.verifier.status(),
      auth: (ctx: Context) => authOf(ctx) as AuthContext<C>,
      unless: (options?: UnlessOptions) => {
        const skips = unlessRule(options); // a bad option throws here, at start-up
        return withGate(function requireTokenUnless(ctx: Context, next: Next): Promise<void> | undefined {
          const preflight = ctx.method === "OPTIONS" && ctx.get("access-control-request-method") !== "";
          if (skips(ctx.method, pathOf(ctx.originalUrl), preflight)) return next();
          return middleware(ctx, next) as Promise<void> | undefined;
        });
      },
    });
    if (gate.protectedResource !== undefined) RESOURCES.set(tokenMiddleware, gate.protectedResource);
    return tokenMiddleware;
  };
  return withGate(middleware);
}

/**
 * Serves the RFC 9728 protected resource metadata of a gate made with `resource`, at the URL the
 * RFC derives from it (`https://api.example.com/mcp` → `/.well-known/oauth-protected-resource/mcp`):
 * `GET` and `HEAD` as JSON, cached for an hour, readable from any origin (with its `OPTIONS`
 * preflight); every other path goes on. Use it before `requireToken`.
 * @example app.use(protectedResourceMetadata(gate)); app.use(gate);
 */
export function protectedResourceMetadata<C extends object>(gate: TokenMiddleware<C>): Middleware {
  const resource = RESOURCES.get(gate);
  if (resource === undefined) {
    throw new ConfigError(
      "`protectedResourceMetadata(gate)` takes the middleware `requireToken({ resource, ... })` returned (with `resource` set).",
    );
  }
  return function protectedResourceMetadata(ctx: Context, next: Next) {
    if (ctx.path !== resource.metadataPath) return next();
    const { status, headers, body } = metadataAnswer(
      resource,
      ctx.method,
      ctx.get("access-control-request-headers") || undefined,
    );
    ctx.status = status;
    ctx.set(headers);
    if (body !== undefined) ctx.body = body;
    return undefined;
  };
}

function authOf(ctx: Context): AuthContext {
  const auth = ctx.state.auth as AuthContext | undefined;
  if (auth === undefined) throw new TokenError("missing_token");
  return auth;
}

/** Lets the request through only if its token has every listed scope; else 403 with the missing ones. */
export function requireScope(...scopes: string[]): Middleware {
  return guard(scopeJudge(scopes, "all", "requireScope"));
}

/** Lets the request through if its token has any listed scope; else 403 listing all of them. */
export function requireAnyScope(...scopes: string[]): Middleware {
  return guard(scopeJudge(scopes, "any", "requireAnyScope"));
}

/**
 * Lets the request through when its token's claim matches: the claim at `name` (a name, a dotted
 * path like `"realm_access.roles"`, or a list of keys for names that hold dots) equals `value` or
 * is a list holding it; with a list of values, any of them; with a predicate, when it answers
 * `true` (anything but a boolean answers 980). Else 403 with code 450, `params` naming the claim.
 * Checked at start-up.
 * @example router.get("/admin", requireClaim("realm_access.roles", "admin"), handler);
 */

export function requireClaim<C extends object = Claims>(name: ClaimPath, matcher: ClaimRequirement<C>): Middleware {
  return guard(claimJudge(name, matcher));
}

/** Put first: answers a `TokenError` thrown below it (`respond: false`) with the catalogue; other errors pass. */
export function authErrorHandler(): Middleware {
  return async function authErrorHandler(ctx: Context, next: Next) {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      send(ctx, error);
    }
  };
}

/**
 * Lets the request through when its token's groups (`cognito:groups`, or `groupsClaim`) hold any
 * listed group; else 403 with code 450, listing the route's groups. Checked at startup.
 */
export function requireGroup(...groups: string[]): Middleware {
  return guard(groupJudge(groups, "requireGroup"));
}

/**
 * Lets the request through only with a user's token, not a machine's; else 401 with code 420. The
 * default rule follows the verifier (`isUserToken`): with `cognito`, a token is a user's when it
 * carries a user name (`username`, or `cognito:username` in an ID token); otherwise when its `type`
 * claim is `"user"`. `isUser` replaces the rule; a throw, or an answer that is not a boolean,
 * answers 980.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- C types the predicate's claims: requireUser<MyClaims>((claims) => ...)
export function requireUser<C extends object = Claims>(isUser?: (claims: Claims & C) => boolean): Middleware {
  return guard(userJudge(isUser));
}

// A guard after requireToken: the refusal the shared core finds (401 when no token was verified,
// 980 for an auth context requireToken did not make), answered as requireToken answers
function guard(judge: Judge): Middleware {
  return function guard(ctx: Context, next: Next) {
    const refusal = judgeRequest(ctx.state["auth"], judge);
    if (refusal !== undefined) return fail(ctx, refusal);
    return next();
  };
}

function fail(ctx: Context, error: unknown): void {
  const { respond, onFailure } = (ctx as Handled)[HANDLING] ?? ANSWER;
  if (onFailure !== undefined && error instanceof TokenError) observe("onFailure", onFailure, error, ctx);
  if (ctx.headerSent) return; // someone else answered: nothing to write, nothing to hand on
  if (!respond) throw error; // Koa's way of next(err): its error handling takes it, nothing crashes
  send(ctx, error);
}

// Set here rather than thrown: Koa's default handler would drop the headers and send text. Never
// writes where another middleware took the response over (`ctx.respond = false`) or sent it.
function send(ctx: Context, error: unknown): void {
  if (ctx.headerSent || ctx.respond === false) return;
  const challenge = (ctx as Handled)[HANDLING]?.challenge?.(readAuthorization(ctx.req));
  const { status, headers, body } = errorResponse(error, challenge);
  ctx.status = status;
  ctx.set(headers);
  ctx.body = body;
}
