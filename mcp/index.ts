import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import {
  InsufficientScopeError,
  InvalidTokenError,
  ServerError,
} from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { createVerifier, TokenError, type AuthContext, type VerifierOptions } from "../src/index.js";
import { reasonRow } from "../src/errors/errors.js";
import { isGateContext } from "../src/access/context.js";

// bearer-gate for servers of the Model Context Protocol SDK (@modelcontextprotocol/sdk, an
// optional peer): its tools read the request's auth as the SDK's AuthInfo, not as bearer-gate's
// auth context, and its own requireBearerAuth takes a verifier.

/**
 * The SDK's `AuthInfo` for an auth context: `clientId` (the token's `client_id`, `azp` or `cid`;
 * `""` when it names none), the scopes, `expiresAt` in seconds since the epoch (as the SDK means
 * it), `resource` (the gate's, as a URL), and in `extra` the claims, groups and user pool.
 */
export function toAuthInfo(auth: AuthContext): AuthInfo {
  return {
    token: auth.token,
    clientId: auth.clientId ?? "",
    scopes: [...auth.scopes],
    expiresAt: auth.claims.exp,
    ...(auth.resource === undefined ? {} : { resource: new URL(auth.resource) }),
    extra: { claims: auth.claims, groups: [...auth.groups], userPoolId: auth.userPoolId },
  };
}

/**
 * Hands the SDK's transport a request whose `auth` is the SDK's `AuthInfo`, made from the auth
 * context `requireToken` stored: `transport.handleRequest(mcpRequest(req), res, req.body)` in
 * Express; in Koa, `mcpRequest(ctx.req, ctx.state.auth)`. Call it last, in the MCP route: it
 * replaces `req.auth` on that request. A request let through anonymously (`credentialsRequired:
 * false`) goes on with no `auth`. Anything else in `auth` (not made by `requireToken`) is refused:
 * a `TokenError` (980) for your error handler, never a tool run with someone else's word for who
 * called it.
 */
export function mcpRequest<R extends object>(
  req: R,
  auth: unknown = Reflect.get(req, "auth"),
): R & { auth?: AuthInfo } {
  if (auth === undefined) return req;
  if (!isGateContext(auth)) {
    throw new TokenError("internal_error", undefined, {
      cause: new Error("mcpRequest() was given an auth context that requireToken did not make"),
    });
  }
  return Object.assign(req, { auth: toAuthInfo(auth) });
}

/**
 * A verifier for the SDK's own `requireBearerAuth({ verifier })`, made of bearer-gate's: every
 * check of `createVerifier(options)`, answered as `AuthInfo`; refusals become the SDK's errors
 * (`InvalidTokenError`: 401; `InsufficientScopeError`: 403; `ServerError` for a key outage, which
 * the SDK answers 500 with no `Retry-After`: bearer-gate's own middleware answers it 503).
 * @example app.post("/mcp", requireBearerAuth({ verifier: createMcpVerifier({ issuerUrl, resource }) }), handler);
 */
export function createMcpVerifier(options: VerifierOptions): OAuthTokenVerifier {
  const verifier = createVerifier(options);
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        return toAuthInfo(await verifier.verifyToken(token));
      } catch (error) {
        throw sdkError(error);
      }
    },
  };
}

// the SDK's error for a refusal; its text is the catalogue's fixed description, never the cause
function sdkError(error: unknown): Error {
  const refusal = error instanceof TokenError ? error : new TokenError("internal_error", undefined, { cause: error });
  const description = reasonRow(refusal.reason).description || refusal.message;
  if (refusal.status === 403) return new InsufficientScopeError(description);
  if (refusal.status === 401) return new InvalidTokenError(description);
  return new ServerError(refusal.message);
}
