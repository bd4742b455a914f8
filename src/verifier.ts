import type { KeyObject } from "node:crypto";
import type { Algorithm } from "jsonwebtoken";
import { checkClaims } from "./claims.js";
import { buildAuthContext } from "./context.js";
import { decodeJwt } from "./decode.js";
import { TokenError, toTokenError } from "./errors.js";
import { checkTokenLength, readBearer } from "./header.js";
import { JwksKeys } from "./keys/jwks.js";
import { normalizeOptions, type KeySource, type VerifierOptions } from "./options.js";
import { parseScopes } from "./scopes.js";
import { verifySignature } from "./signature.js";
import type { AuthContext, JwtHeader } from "./types.js";

/** Verifies bearer tokens against one policy. Every method rejects only with a `TokenError`. */
export interface Verifier<Request = unknown> {
  /** Verifies an `Authorization` header value; a missing header is `missing_token`. */
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

/**
 * Checks the options (a bad one throws a `ConfigError` now, not at the first request) and returns
 * a verifier.
 * @example
 * const verifier = createVerifier({ cognito: { userPoolId: "sa-east-1_6ygLpRK0e", clientId: "web" } });
 * const auth = await verifier.verify(req.headers.authorization);
 */
export function createVerifier<Request = unknown>(options: VerifierOptions<Request>): Verifier<Request> {
  const policy = normalizeOptions(options);
  const resolveKey = keyResolver(policy.keySource);

  // the only place that knows the order of the steps; the clock is read once per request
  async function verifyToken(token: string): Promise<AuthContext> {
    try {
      const now = policy.clock() / 1000;
      const { header, payload } = decodeJwt(checkTokenLength(token, policy.maxTokenLength));
      if (!policy.algorithms.has(header.alg)) {
        throw new TokenError("algorithm_not_allowed", undefined, { cause: new Error(`alg ${header.alg}`) });
      }
      verifySignature(token, await resolveKey(header), header.alg as Algorithm);
      checkClaims(payload, policy, now);
      const scopes = parseScopes(payload[policy.scopeClaim]);
      if (policy.isRevoked !== undefined && (await policy.isRevoked(payload))) throw new TokenError("revoked");
      return buildAuthContext(token, payload, scopes, now);
    } catch (error) {
      throw toTokenError(error);
    }
  }

  async function verify(authorization: string | readonly string[] | undefined): Promise<AuthContext> {
    try {
      return await verifyToken(readBearer(authorization, policy.maxTokenLength));
    } catch (error) {
      throw toTokenError(error);
    }
  }

  async function authenticate(
    request: Request,
    authorization: string | readonly string[] | undefined,
  ): Promise<AuthContext | undefined> {
    let token: string | undefined;
    try {
      if (policy.getToken === undefined) {
        if (authorization === undefined && !policy.credentialsRequired) return undefined;
        return await verify(authorization);
      }
      token = await policy.getToken(request);
    } catch (error) {
      throw toTokenError(error);
    }
    if (token === undefined || token === "") {
      if (!policy.credentialsRequired) return undefined;
      throw new TokenError("missing_token");
    }
    if (typeof token !== "string")
      throw new TokenError("internal_error", undefined, { cause: new Error("getToken returned a non-string") });
    return verifyToken(token);
  }

  return Object.freeze({ verify, verifyToken, authenticate });
}

function keyResolver(source: KeySource): (header: JwtHeader) => KeyObject | Promise<KeyObject> {
  if (source.kind === "secret") return () => source.key;
  const keys = new JwksKeys(source);
  return (header) => keys.resolve(header);
}
