import type { KeyObject } from "node:crypto";
import type { Algorithm } from "jsonwebtoken";
import { TokenCache } from "./cache.js";
import { readClock } from "./check.js";
import { checkClaims, checkRequired, checkTimes } from "./claims.js";
import { buildAuthContext } from "./context.js";
import { decodeJwt } from "./decode.js";
import { quote, TokenError, toTokenError } from "./errors.js";
import { checkTokenChars, checkTokenLength, readBearer } from "./header.js";
import { JwksKeys } from "./keys/jwks.js";
import { normalizeOptions, type KeySource, type VerifierOptions } from "./options.js";
import { parseScopes } from "./scopes.js";
import { verifySignature } from "./signature.js";
import type { AuthContext, Claims, JwtHeader } from "./types.js";

/** Verifies bearer tokens against one policy. Every method rejects only with a `TokenError`. */
export interface Verifier<Request = unknown> {
  /** Verifies an `Authorization` header value (or the list of them); a missing header is `missing_token`. */
  verify(authorization: string | readonly string[] | undefined): Promise<AuthContext>;
  /** Verifies a bare token (no `Bearer` scheme). */
  verifyToken(token: string): Promise<AuthContext>;
  /**
   * What the adapters call once per request: reads the token with `getToken` when set, else from
   * `authorization`, and resolves to `undefined` for a request with no credentials when
   * `credentialsRequired` is `false`.
   */
  authenticate(
    request: Request,
    authorization: string | readonly string[] | undefined,
  ): Promise<AuthContext | undefined>;
}

interface Keys {
  resolve(header: JwtHeader): KeyObject | Promise<KeyObject>;
  /** Names the key set in use; a cached verification holds only under the same stamp. */
  stamp(): number;
}

/**
 * Checks the options (a bad one throws a `ConfigError` now, not at the first request) and returns
 * a verifier.
 * @example
 * const verifier = createVerifier({ cognito: { userPoolId: "sa-east-1_6ygLpRK0e", clientId: "web" } });
 * const auth = await verifier.verify(req.headers.authorization);
 */
export function createVerifier<Request = unknown>(options: VerifierOptions<Request>): Verifier<Request> {
  const policy = normalizeOptions(options);
  const keys = keysFor(policy.keySource);
  const cache = policy.tokenCache === false ? undefined : new TokenCache(policy.tokenCache);

  // the only place that knows the order of the steps; the clock is read once per request
  async function verifyToken(token: string, fromHeader = false): Promise<AuthContext> {
    try {
      const now = readClock(policy.clock) / 1000; // throws, and so answers 980, rather than judge against NaN
      checkTokenLength(token, policy.maxTokenLength);
      const hit = cache?.get(token, keys.stamp());
      let claims: Claims, scopes: readonly string[];
      if (hit === undefined) {
        if (fromHeader) checkTokenChars(token); // a hit equals a token known good: no need
        ({ claims, scopes } = await verifySigned(token, now));
      } else {
        ({ claims, scopes } = hit); // signature and claims verified under these very keys
        checkTimes(hit, policy.clockTolerance, now);
        checkRequired(claims, policy);
      }
      if (policy.isRevoked !== undefined && (await policy.isRevoked(claims))) throw new TokenError("revoked");
      return buildAuthContext(token, claims, scopes, now);
    } catch (error) {
      throw toTokenError(error);
    }
  }

  async function verifySigned(token: string, now: number): Promise<{ claims: Claims; scopes: readonly string[] }> {
    const { header, payload } = decodeJwt(token);
    if (!policy.algorithms.has(header.alg)) {
      throw new TokenError("algorithm_not_allowed", undefined, { cause: new Error(`alg ${quote(header.alg)}`) });
    }
    verifySignature(token, await keys.resolve(header), header.alg as Algorithm);
    checkClaims(payload, policy, now);
    const scopes = parseScopes(payload[policy.scopeClaim]);
    cache?.set(token, payload, scopes, keys.stamp(), now);
    return { claims: payload, scopes };
  }

  function verify(authorization: string | readonly string[] | undefined): Promise<AuthContext> {
    let token: string;
    try {
      token = readBearer(authorization, policy.maxTokenLength);
    } catch (error) {
      return Promise.reject(toTokenError(error));
    }
    return verifyToken(token, true);
  }

  async function authenticate(
    request: Request,
    authorization: string | readonly string[] | undefined,
  ): Promise<AuthContext | undefined> {
    if (policy.getToken === undefined) {
      if (authorization === undefined && !policy.credentialsRequired) return undefined;
      return verify(authorization);
    }
    let token: unknown;
    try {
      token = await policy.getToken(request);
    } catch (error) {
      throw toTokenError(error);
    }
    if (token === undefined || token === "") {
      if (!policy.credentialsRequired) return undefined;
      throw new TokenError("missing_token");
    }
    if (typeof token !== "string") {
      throw new TokenError("internal_error", undefined, { cause: new Error("getToken returned a non-string") });
    }
    return verifyToken(token);
  }

  return Object.freeze({ verify, verifyToken: (token: string) => verifyToken(token), authenticate });
}

function keysFor(source: KeySource): Keys {
  if (source.kind === "secret") return { resolve: () => source.key, stamp: () => 0 };
  const keys = new JwksKeys(source);
  return { resolve: (header) => keys.resolve(header), stamp: () => keys.stamp() };
}
