import type { AuthContext, Claims } from "../types.js";
import type { Binding } from "../token/binding.js";

// The brand of an auth context that requireToken made, on the prototype of the one class that makes
// them: a hand-made `req.auth` (express-jwt's, a test's, a spread copy) lacks it. Symbol.for, so
// the ESM and CommonJS builds of one install know each other's contexts.
const MADE_BY_GATE = Symbol.for("bearer-gate.auth-context");

/**
 * The auth context of a verified token; `now` in seconds. One per request, so not frozen (that
 * costs more than the rest of a cache hit); what requests share, the claims and scopes, is. An
 * instance of a class, not a literal: its brand costs nothing per request, where a WeakSet entry
 * would cost a third of a cache hit.
 */
class GateContext implements AuthContext {
  readonly expiresAt: Date;
  readonly expiresIn: number;

  constructor(
    readonly token: string,
    readonly claims: Claims,
    readonly scopes: readonly string[],
    readonly groups: readonly string[],
    readonly userPoolId: string | undefined,
    now: number,
    readonly resource: string | undefined,
    readonly binding: Binding | undefined,
  ) {
    this.expiresAt = new Date(claims.exp * 1000);
    this.expiresIn = Math.max(0, Math.floor(claims.exp - now));
  }

  // the issuer that verified it: with several (`issuers`, pools), the one its `iss` named
  get issuer(): string | undefined {
    return this.claims.iss;
  }

  // read on demand: most requests never ask, and a getter on the prototype costs them nothing
  get clientId(): string | undefined {
    for (const name of CLIENT_CLAIMS) {
      const value = this.claims[name];
      if (typeof value === "string") return value;
    }
    return undefined;
  }
}

// RFC 9068 §2.2 client_id; OpenID Connect's azp; Okta's cid
const CLIENT_CLAIMS = ["client_id", "azp", "cid"] as const;
Object.defineProperty(GateContext.prototype, MADE_BY_GATE, { value: true });

/** The auth context of a verified token; `now` in seconds. */
export function buildAuthContext(
  token: string,
  claims: Claims,
  scopes: readonly string[],
  groups: readonly string[],
  userPoolId: string | undefined,
  now: number,
  resource: string | undefined,
  binding?: Binding,
): AuthContext {
  return new GateContext(token, claims, scopes, groups, userPoolId, now, resource, binding);
}

/** Whether `value` is an auth context that a `requireToken` (of this package, either build) made. */
export function isGateContext(value: unknown): value is AuthContext {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MADE_BY_GATE] === true;
}
