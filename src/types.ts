/** A value that JSON can carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A token's verified claims. The registered claims are type-checked when the token is decoded
 * (a token whose `sub` is not a string is refused), so their types here are true; every other
 * claim is `unknown` until you check it. The object has a null prototype: use `Object.hasOwn`.
 */
export interface Claims {
  readonly exp: number;
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly nbf?: number;
  readonly iat?: number;
  readonly jti?: string;
  readonly [claim: string]: unknown;
}

/** A token's JOSE header, as decoded. */
export interface JwtHeader {
  readonly alg: string;
  readonly kid?: string;
  readonly [parameter: string]: unknown;
}

/** What a request carries once its token is verified: `req.auth` in Express, `ctx.state.auth` in Koa. */
export interface AuthContext {
  /** The raw access token, as it came in. */
  readonly token: string;
  readonly claims: Claims;
  /** The scope claim parsed to a list (space- or comma-delimited string, or an array). */
  readonly scopes: readonly string[];
  /**
   * The user's groups: the `cognito:groups` claim (or `groupsClaim`) as a list; empty when the
   * token carries none.
   */
  readonly groups: readonly string[];
  /** The Cognito user pool that verified the token (one of several, with a list); else `undefined`. */
  readonly userPoolId: string | undefined;
  /** When the token expires (its `exp`). */
  readonly expiresAt: Date;
  /** Whole seconds until `expiresAt`, never negative. */
  readonly expiresIn: number;
}
