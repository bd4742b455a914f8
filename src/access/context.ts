import type { AuthContext, Claims } from "../types.js";

/**
 * The auth context of a verified token; `now` in seconds. One per request, so not frozen (that
 * costs more than the rest of a cache hit); what requests share, the claims and scopes, is.
 */
export function buildAuthContext(
  token: string,
  claims: Claims,
  scopes: readonly string[],
  groups: readonly string[],
  userPoolId: string | undefined,
  now: number,
): AuthContext {
  return {
    token,
    claims,
    scopes,
    groups,
    userPoolId,
    expiresAt: new Date(claims.exp * 1000),
    expiresIn: Math.max(0, Math.floor(claims.exp - now)),
  };
}
