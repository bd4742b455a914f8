import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
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
     * The auth context on `req.auth` (and Koa's `ctx.state.auth`). One global interface, so that the
     * ESM and CommonJS builds' declarations of `req.auth` agree in a program that loads both.
     */
    interface RequestAuth extends AuthContext {}
  }
  // Express types its request through this global namespace
  namespace Express {
    interface Request {
      /** Set by `requireToken()`; absent only on routes it does not guard or with `credentialsRequired: false`. */
      auth: BearerGate.RequestAuth;
    }
  }
}
/* eslint-enable @typescript-eslint/no-namespace, @typescript-eslint/no-empty-object-type */

/**
 * `requireToken` options: the verifier's, plus how failures are answered and observed. `C` types
 * your claims, as in `AuthContext<C>`.
 */
export interface ExpressOptions<C extends object = Claims> extends VerifierOptions<Request, C> {
  /** Default `true`: answer failures here. `false`: pass the `TokenError` to `next(err)`. */
  respond?: boolean | undefined;
  /**
   * Called for every refused request (scope guards' too), with the `TokenError`; never with the
   * token. For logs and metrics: never awaited, and a throw or a rejected promise never changes the
   * answer (it is told once, as a `BEARER_GATE_HOOK_FAILED` process warning).
   */
  onFailure?:
    ((error: TokenError, req: Request) => void) | ((error: TokenError, req: Request) => Promise<void>) | undefined;
  /** Called for every request let through, with its auth context; like `onFailure`, only observes. */
  onSuccess?:
    | ((auth: AuthContext<C>, req: Request) => void)
    | ((auth: AuthContext<C>, req: Request) => Promise<void>)
    | undefined;
}

type Handling = SharedHandling<NonNullable<ExpressOptions["onFailure"]>>;
type Handled = SharedHandled<NonNullable<ExpressOptions["onFailure"]>>;
// the protected resource of each requireToken that has one, for protectedResourceMetadata(gate)
const RESOURCES = new WeakMap<object, ProtectedResource>();

/** What `requireToken` returns: the middleware, `ready()` to await before listening, and `auth(req)`. */
export type TokenMiddleware<C extends object = Claims> = RequestHandler & {
  /**
   * Resolves once the keys are at hand (the key set downloaded, holding a usable key); rejects
   * with a `KeySetError` naming the URL and the cause. `await gate.ready()` before `app.listen()`.
   */
  readonly ready: (options?: ReadyOptions) => Promise<void>;
  /** What the key sets are doing now, for a readiness probe: `gate.status().ready`. */
  readonly status: () => VerifierStatus;
  /**
   * `req.auth`, typed with this gate's claims (`CognitoClaims` for `cognito`, or your `C`). Throws a
   * `TokenError` (`missing_token`, 401) for a request that no `requireToken` let through, which
   * `authErrorHandler()` answers like the middleware.
   */
  readonly auth: (req: Request) => AuthContext<C>;
  /**
   * This middleware, skipping the requests `options` name (express-unless's options): paths as
   * strings or regular expressions (or `{ url, methods }`), methods, and CORS preflights by default.
   * A skipped request goes on with no `req.auth`.
   * @example app.use(gate.unless({ path: ["/health", /^\/public\//] }));
   */
  readonly unless: (options?: UnlessOptions) => TokenMiddleware<C>;
};

/**
 * Verifies the request's bearer token and stores the auth context on `req.auth`; with no options it
 * reads the environment (`JWT_SECRET`, `COGNITO_USER_POOL_ID`, ...). A bad option throws here, at startup.
 * With `cognito`, `gate.auth(req)` types the claims as `CognitoClaims`; `requireToken<MyClaims>()`
 * types them as yours.
 * @example app.use(requireToken({ cognito: { userPoolId: "sa-east-1_6ygLpRK0e", clientId: "web" } }));
 */
export function requireToken<C extends object = CognitoClaims>(
  options: ExpressOptions<C> & WithCognito,
): TokenMiddleware<C>;
export function requireToken<C extends object = Claims>(options?: ExpressOptions<C>): TokenMiddleware<C>;
export function requireToken<C extends object>(options?: ExpressOptions<C>): TokenMiddleware<C> {
  const given: ExpressOptions<C> = options ?? optionsFromEnv(process.env);
  const { respond = true, onFailure, onSuccess, ...verifierOptions } = given;
  checkHooks("`onFailure` and `onSuccess`", onFailure, onSuccess);
  // options from the environment are complained about in its variables' names
  const gate = inEnvTerms(given, () => createGate<Request, C>(verifierOptions));
  const handling: Handling = { respond, onFailure, challenge: gate.challenge };
  function pass(req: Request, res: Response, next: NextFunction, auth: AuthContext<C> | undefined): void {
    if (res.headersSent) return; // someone else answered while the keys came: nothing to go on to
    if (auth !== undefined) {
      req.auth = auth;
      if (onSuccess !== undefined) observe("onSuccess", onSuccess, auth, req);
    }
    next(); // outside any try, so a handler's own error is never reported as an auth error
  }
  // Not async: a cache hit or a key at hand goes on in the same tick, with no promise made. When
  // the answer has to wait, the promise is handled here and never rejects (Express 4 ignores it).
  const middleware: RequestHandler = function requireToken(req, res, next) {
    (req as Handled)[HANDLING] = handling;
    // RFC 9449 §8.2: with server nonces, every response hands out the current one
    if (gate.nonce !== undefined) res.setHeader("DPoP-Nonce", gate.nonce());
    let answer: AuthContext<C> | undefined | Promise<AuthContext<C> | undefined>;
    try {
      answer = gate.authenticateNow(req, readAuthorization(req), req, req.originalUrl);
    } catch (error) {
      return fail(error, req, res, next);
    }
    if (!(answer instanceof Promise)) return pass(req, res, next, answer);
    void answer.then(
      (auth) => pass(req, res, next, auth),
      (error: unknown) => fail(error, req, res, next),
    );
  };
  const withGate = (handler: RequestHandler): TokenMiddleware<C> => {
    const tokenMiddleware = Object.assign(handler, {
      ready: (options?: ReadyOptions) => gate.verifier.ready(options),
      status: () => gate.verifier.status(),
      auth: (req: Request) => authOf(req) as AuthContext<C>,
      unless: (options?: UnlessOptions) => {
        const skips = unlessRule(options); // a bad option throws here, at start-up
        return withGate(function requireTokenUnless(req, res, next) {
          const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
          if (skips(req.method, pathOf(req.originalUrl || req.url), preflight)) return next();
          middleware(req, res, next);
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
 * preflight); every other path goes on. Mount it at the app's root, before `requireToken`.
 * @example app.use(protectedResourceMetadata(gate)); app.use("/mcp", gate);
 */
export function protectedResourceMetadata<C extends object>(gate: TokenMiddleware<C>): RequestHandler {
  const resource = resourceOf(gate);
  return function protectedResourceMetadata(req, res, next) {
    const path = (req.originalUrl || req.url).split("?")[0];
    if (path !== resource.metadataPath) return next();
    const { status, headers, body } = metadataAnswer(resource, req.method, req.get("access-control-request-headers"));
    res.status(status).set(headers);
    if (body === undefined) res.end();
    else res.send(body);
  };
}

function resourceOf(gate: object): ProtectedResource {
  const resource = RESOURCES.get(gate);
  if (resource === undefined) {
    throw new ConfigError(
      "`protectedResourceMetadata(gate)` takes the middleware `requireToken({ resource, ... })` returned (with `resource` set).",
    );
  }
  return resource;
}

function authOf(req: Request): AuthContext {
  const auth = req.auth as AuthContext | undefined;
  if (auth === undefined) throw new TokenError("missing_token");
  return auth;
}

/** Lets the request through only if its token has every listed scope; else 403 with the missing ones. */
export function requireScope(...scopes: string[]): RequestHandler {
  return guard(scopeJudge(scopes, "all", "requireScope"));
}

/** Lets the request through if its token has any listed scope; else 403 listing all of them. */
export function requireAnyScope(...scopes: string[]): RequestHandler {
  return guard(scopeJudge(scopes, "any", "requireAnyScope"));
}

/**
 * Lets the request through when its token's claim matches: the claim at `name` (a name, a dotted
 * path like `"realm_access.roles"`, or a list of keys for names that hold dots) equals `value` or
 * is a list holding it; with a list of values, any of them; with a predicate, when it answers
 * `true` (anything but a boolean answers 980). Else 403 with code 450, `params` naming the claim.
 * Checked at start-up.
 * @example app.get("/admin", requireClaim("realm_access.roles", "admin"), handler);
 */

export function requireClaim<C extends object = Claims>(name: ClaimPath, matcher: ClaimRequirement<C>): RequestHandler {
  return guard(claimJudge(name, matcher));
}

/** Formats a `TokenError` for apps that pass them on (`respond: false`); other errors go to `next`. */
export function authErrorHandler(): ErrorRequestHandler {
  return function authErrorHandler(err, req, res, next) {
    if (!(err instanceof TokenError)) return next(err);
    send(req, res, err);
  };
}

/**
 * Lets the request through when its token's groups (`cognito:groups`, or `groupsClaim`) hold any
 * listed group; else 403 with code 450, listing the route's groups. Checked at startup.
 */
export function requireGroup(...groups: string[]): RequestHandler {
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
export function requireUser<C extends object = Claims>(isUser?: (claims: Claims & C) => boolean): RequestHandler {
  return guard(userJudge(isUser));
}

// A guard after requireToken: the refusal the shared core finds (401 when no token was verified,
// 980 for an auth context requireToken did not make), answered as requireToken answers
function guard(judge: Judge): RequestHandler {
  return function guard(req, res, next) {
    const refusal = judgeRequest(req.auth, judge);
    if (refusal !== undefined) return fail(refusal, req, res, next);
    next();
  };
}

function fail(error: unknown, req: Request, res: Response, next: NextFunction): void {
  const { respond, onFailure } = (req as Handled)[HANDLING] ?? ANSWER;
  if (onFailure !== undefined && error instanceof TokenError) observe("onFailure", onFailure, error, req);
  if (res.headersSent) return; // someone else answered: nothing to write, nothing to hand on
  if (!respond) return next(error);
  send(req, res, error);
}

// Never throws: a response already sent is left alone, and a write that fails ends the connection.
function send(req: Request, res: Response, error: unknown): void {
  if (res.headersSent) return;
  try {
    const challenge = (req as Handled)[HANDLING]?.challenge?.(readAuthorization(req));
    const { status, headers, body } = errorResponse(error, challenge);
    res.status(status).set(headers).json(body);
  } catch {
    res.destroy();
  }
}
