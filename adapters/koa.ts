import type { Context, Middleware, Next } from "koa";
import {
  errorResponse,
  missingScopes,
  optionsFromEnv,
  readAuthorization,
  scopeList,
  TokenError,
  type AuthContext,
  type ScopeMode,
  type VerifierOptions,
} from "../src/index.js";
import { createGate } from "../src/verifier.js";
import { checkHooks, observe } from "./hooks.js";

declare module "koa" {
  interface DefaultState {
    /** Set by `requireToken()`; absent only on routes it does not guard or with `credentialsRequired: false`. */
    auth: AuthContext;
  }
}

/** `requireToken` options: the verifier's, plus how failures are answered and observed. */
export interface KoaOptions extends VerifierOptions<Context> {
  /** Default `true`: answer failures here. `false`: throw the `TokenError` for the app's own error middleware. */
  respond?: boolean | undefined;
  /** Called for every refused request (scope guards' too), with the `TokenError`; never with the token. */
  onFailure?: ((error: TokenError, ctx: Context) => void) | undefined;
  /** Called for every request let through, with its auth context. */
  onSuccess?: ((auth: AuthContext, ctx: Context) => void) | undefined;
}

type Handling = Required<Pick<KoaOptions, "respond">> & Pick<KoaOptions, "onFailure">;
const ANSWER: Handling = { respond: true, onFailure: undefined };
// how the requireToken a request passed answers failures, so the scope guards after it do the same
// what the scope guards down the line need to know; a symbol both builds share (ESM and CommonJS)
const HANDLING = Symbol.for("bearer-gate.handling");
type Handled = { [HANDLING]?: Handling };

/**
 * Verifies the request's bearer token and stores the auth context on `ctx.state.auth`; with no
 * options it reads the environment (`JWT_SECRET`, `COGNITO_USER_POOL_ID`, ...). A bad option throws here, at startup.
 * @example app.use(requireToken({ secret: process.env.JWT_SECRET }));
 */
export function requireToken(options?: KoaOptions): Middleware {
  const {
    respond = true,
    onFailure,
    onSuccess,
    ...verifierOptions
  }: KoaOptions = options ?? optionsFromEnv(process.env);
  checkHooks(onFailure, onSuccess);
  const gate = createGate<Context>(verifierOptions);
  const handling: Handling = { respond, onFailure };
  function pass(ctx: Context, next: Next, auth: AuthContext | undefined): Promise<void> | undefined {
    if (ctx.headerSent) return undefined; // someone else answered while the keys came: nothing to go on to
    if (auth !== undefined) {
      ctx.state.auth = auth;
      if (onSuccess !== undefined) observe(() => onSuccess(auth, ctx));
    }
    return next(); // outside any try, so a handler's own error is never reported as an auth error
  }
  // Not async: a cache hit or a key at hand goes on in the same tick, with no promise of its own.
  return function requireToken(ctx: Context, next: Next) {
    (ctx as Handled)[HANDLING] = handling;
    let answer: AuthContext | undefined | Promise<AuthContext | undefined>;
    try {
      answer = gate.authenticateNow(ctx, readAuthorization(ctx.req));
    } catch (error) {
      return fail(ctx, error);
    }
    if (!(answer instanceof Promise)) return pass(ctx, next, answer);
    return answer.then(
      (auth) => pass(ctx, next, auth),
      (error: unknown) => fail(ctx, error),
    );
  };
}

/** Lets the request through only if its token has every listed scope; else 403 with the missing ones. */
export function requireScope(...scopes: string[]): Middleware {
  return scopeGuard(scopeList(scopes, "requireScope"), "all");
}

/** Lets the request through if its token has any listed scope; else 403 listing all of them. */
export function requireAnyScope(...scopes: string[]): Middleware {
  return scopeGuard(scopeList(scopes, "requireAnyScope"), "any");
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

function scopeGuard(required: readonly string[], mode: ScopeMode): Middleware {
  return async function requireScope(ctx: Context, next: Next) {
    const granted = (ctx.state.auth as AuthContext | undefined)?.scopes;
    if (granted === undefined) return fail(ctx, new TokenError("missing_token"));
    const missing = missingScopes(granted, required, mode);
    if (missing.length > 0) return fail(ctx, new TokenError("insufficient_scope", missing));
    await next();
  };
}

function fail(ctx: Context, error: unknown): void {
  const { respond, onFailure } = (ctx as Handled)[HANDLING] ?? ANSWER;
  if (onFailure !== undefined && error instanceof TokenError) observe(() => onFailure(error, ctx));
  if (ctx.headerSent) return; // someone else answered: nothing to write, nothing to hand on
  if (!respond) throw error; // Koa's way of next(err): its error handling takes it, nothing crashes
  send(ctx, error);
}

// Set here rather than thrown: Koa's default handler would drop the headers and send text. Never
// writes where another middleware took the response over (`ctx.respond = false`) or sent it.
function send(ctx: Context, error: unknown): void {
  if (ctx.headerSent || ctx.respond === false) return;
  const { status, headers, body } = errorResponse(error);
  ctx.status = status;
  ctx.set(headers);
  ctx.body = body;
}
