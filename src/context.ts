import type { AuthContext, Claims } from "./types.js";

/** The auth context of a verified token; `now` in seconds. */
export function buildAuthContext(token: string, claims: Claims, scopes: readonly string[], now: number): AuthContext {
  return Object.freeze({
    token,
    claims,
    scopes,
    expiresAt: new Date(claims.exp * 1000),
    expiresIn: Math.max(0, Math.floor(claims.exp - now)),
  });
}
