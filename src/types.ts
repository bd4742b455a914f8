import type { Binding } from "./token/binding.js";

/** A value that JSON can carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A token's verified claims. The registered claims are type-checked when the token is decoded
 * (a token whose `sub` is not a string is refused), so their types here are true; every other
 * claim is `unknown` until you check it. The object has a null prototype: use `Object.hasOwn`.
 *
 * Type your own claims once for the whole app by augmenting this interface (optional members, as
 * nothing checks them at run time unless `requiredClaims` does):
 * @example
 * declare module "bearer-gate" {
 *   interface Claims {
 *     readonly tenant?: string;
 *   }
 * }
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

/**
 * An Amazon Cognito token's claims, as a verifier with `cognito` checks them: `iss` is the pool's,
 * `token_use` is the kind it accepts, `sub` is a string, and each claim below, when present, has the
 * type given here (else the token is refused as malformed). Access tokens carry `client_id`, `scope`
 * and, for a user, `username`; ID tokens carry `aud` (the client) and `cognito:username`.
 */
export interface CognitoClaims extends Claims {
  readonly iss: string;
  readonly sub: string;
  readonly token_use: "access" | "id";
  /** The app client (access tokens). */
  readonly client_id?: string;
  /** The user's name (a user's access token); a client-credentials token has none. */
  readonly username?: string;
  /** The user's name (ID tokens). */
  readonly "cognito:username"?: string;
  /** The user's groups. */
  readonly "cognito:groups"?: readonly string[];
  /** Space-delimited scopes (access tokens); `auth.scopes` has them as a list. */
  readonly scope?: string;
  /** When the user signed in, in seconds since the epoch. */
  readonly auth_time?: number;
  /** Shared by every token minted from one refresh token (what revocation lists). */
  readonly origin_jti?: string;
  readonly event_id?: string;
}

/**
 * What a request carries once its token is verified: `req.auth` in Express, `ctx.state.auth` in Koa.
 * `C` adds your own claims' types to `claims` (`AuthContext<{ tenant: string }>`): a promise you
 * make about your tokens, not a check; `requiredClaims` is the check.
 */
export interface AuthContext<C extends object = Claims> {
  /** The raw access token, as it came in. */
  readonly token: string;
  readonly claims: Claims & C;
  /** The scope claim parsed to a list (space- or comma-delimited string, or an array). */
  readonly scopes: readonly string[];
  /**
   * The user's groups: the `cognito:groups` claim (or `groupsClaim`) as a list; empty when the
   * token carries none.
   */
  readonly groups: readonly string[];
  /** The Cognito user pool that verified the token (one of several, with a list); else `undefined`. */
  readonly userPoolId: string | undefined;
  /**
   * The OAuth client the token was issued to: its `client_id` (RFC 9068), else `azp` (OpenID
   * Connect), else `cid` (Okta); `undefined` when it names none. Read on demand (not in
   * `JSON.stringify(auth)`).
   */
  readonly clientId: string | undefined;
  /**
   * The issuer that verified the token: its `iss`, which with `issuers`, `resolveIssuer` or several
   * Cognito pools names the entry whose keys and rules it passed. Read on demand.
   */
  readonly issuer: string | undefined;
  /** The `resource` the gate protects (RFC 8707; the tokens' audience), when it was given one. */
  readonly resource: string | undefined;
  /**
   * How the token was bound to its client and proven on this request: `{ method: "dpop",
   * thumbprint }` (RFC 9449, the proof key's thumbprint) or `{ method: "mtls", thumbprint }`
   * (RFC 8705, the certificate's); `undefined` for a plain bearer token.
   */
  readonly binding: Binding | undefined;
  /** When the token expires (its `exp`). */
  readonly expiresAt: Date;
  /** Whole seconds until `expiresAt`, never negative. */
  readonly expiresIn: number;
}
