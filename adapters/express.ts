import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import {
  createVerifier,
  errorResponse,
  missingScopes,
  optionsFromEnv,
  scopeList,
  TokenError,
  type AuthContext,
  type ScopeMode,
  type VerifierOptions,
} from "../src/index.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types its request through this global namespace
  namespace Express {
    interface Request {
      /** Set by `requireToken()`; absent only on routes it does not guard or with `credentialsRequired: false`. */
      auth: AuthContext;
    }
  }
}

/** `requireToken` options: the verifier's, plus how failures are answered. */
export interface ExpressOptions extends VerifierOptions<Request> {
  /** Default `true`: answer failures here. `false`: pass the `TokenError` to `next(err)`. */
  respond?: boolean | undefined;
}

// requests whose requireToken passes errors on, so the scope guards after it do the same
const deferring = new WeakSet<Request>();

/**
 * Verifies the request's bearer token and stores the auth context on `req.auth`; with no options it
 * reads the environment (`JWT_SECRET`, `COGNITO_USER_POOL_ID`, ...). A bad option throws here, at startup.
 * @example app.use(requireToken({ cognito: { userPoolId: "sa-east-1_6ygLpRK0e", clientId: "web" } }));
 */
export function requireToken(options?: ExpressOptions): RequestHandler {
  const { respond = true, ...verifierOptions }: ExpressOptions = options ?? optionsFromEnv(process.env);
  const verifier = createVerifier(verifierOptions);
  return async function requireToken(req, res, next) {
    if (!respond) deferring.add(req);
    try {
      const auth = await verifier.authenticate(req, req.headersDistinct.authorization);
      if (auth !== undefined) req.auth = auth;
    } catch (error) {
      return fail(error, req, res, next);
    }
    next(); // outside the try, so a handler's own error is never reported as an auth error
  };
}

/** Lets the request through only if its token has every listed scope; else 403 with the missing ones. */
export function requireScope(...scopes: string[]): RequestHandler {
  return scopeGuard(scopeList(scopes, "requireScope"), "all");
}

/** Lets the request through if its token has any listed scope; else 403 listing all of them. */
export function requireAnyScope(...scopes: string[]): RequestHandler {
  return scopeGuard(scopeList(scopes, "requireAnyScope"), "any");
}

/** Formats a `TokenError` for apps that pass them on (`respond: false`); other errors go to `next`. */
export function authErrorHandler(): ErrorRequestHandler {
  return function authErrorHandler(err, _req, res, next) {
    if (!(err instanceof TokenError)) return next(err);
    send(res, err);
  };
}

function scopeGuard(required: readonly string[], mode: ScopeMode): RequestHandler {
  return function requireScope(req, res, next) {
    const granted = (req.auth as AuthContext | undefined)?.scopes;
    if (granted === undefined) return fail(new TokenError("missing_token"), req, res, next);
    const missing = missingScopes(granted, required, mode);
    if (missing.length > 0) return fail(new TokenError("insufficient_scope", missing), req, res, next);
    next();
  };
}

function fail(error: unknown, req: Request, res: Response, next: NextFunction): void {
  if (deferring.has(req)) return next(error);
  send(res, error);
}

function send(res: Response, error: unknown): void {
  const { status, headers, body } = errorResponse(error);
  res.status(status).set(headers).json(body);
}
