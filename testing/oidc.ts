import { randomUUID } from "node:crypto";
import type { VerifierOptions } from "../src/index.js";
import type { TestClaims } from "./index.js";
import { KEY_PAIRS, newKey, signJwt, startKeyServer, type SigningKey, type TestAlgorithm } from "./keys.js";

/** Options of `createTestOidcIssuer`. */
export interface TestOidcIssuerOptions {
  /** The `aud` of its access tokens, and the audience `options()` accepts; default `api://bearer-gate-test`. */
  audience?: string | undefined;
  /** The client its tokens are issued to (`client_id`); default `bearer-gate-test-client`. */
  clientId?: string | undefined;
  /** What it signs with: `RS256` (default), `PS256`, `ES256`, `EdDSA`, ... */
  algorithm?: TestAlgorithm | undefined;
  /**
   * The issuer URL's path, as providers have one: `/realms/shop` (Keycloak), `/tenant-a/v2.0`
   * (Entra ID), `/oauth2/default` (Okta). Default none: the issuer is the server's origin.
   */
  path?: string | undefined;
}

/**
 * A local OpenID provider: a discovery document and a JWKS under its own issuer URL on 127.0.0.1,
 * and RFC 9068 access tokens signed by it. `requireToken(issuer.options())` runs the discovery
 * path exactly as it does in production.
 */
export interface TestOidcIssuer {
  /** The issuer URL: `http://127.0.0.1:<port>` plus `path`; its tokens' `iss`. */
  readonly url: string;
  /** Where its discovery document says its keys are. */
  readonly jwksUri: string;
  readonly audience: string;
  readonly clientId: string;
  readonly algorithm: TestAlgorithm;
  /** How many requests it answered (discovery and key set). */
  readonly requests: number;
  /** Verifier options that trust it: `issuerUrl`, `audience` and its algorithm, plus any you add. */
  options(extra?: Omit<VerifierOptions, "issuerUrl" | "secret" | "jwksUri" | "cognito" | "publicKey">): VerifierOptions;
  /**
   * A user's access token (RFC 9068: header `typ` `at+jwt`; `iss`, `sub`, `aud`, `client_id`,
   * `scope`, `iat`, `exp` in an hour, `jti`); override or add any claim, `expiresIn` sets `exp`,
   * `dpopKey` binds it (`cnf.jkt`).
   */
  accessToken(claims?: TestClaims): string;
  /** A client-credentials token: a machine's, whose `sub` is its `client_id` and which names no user. */
  machineToken(claims?: TestClaims): string;
  /** Signs with a new key; the old one is still served until `retire()`. Resolves to the new `kid`. */
  rotate(): Promise<string>;
  /** Stops serving every key but the current one. */
  retire(): void;
  /** Stops its server and drops its connections: no open handles remain. */
  close(): Promise<void>;
}

/**
 * Starts a local OpenID provider on 127.0.0.1 (random port) for your tests: discovery, a JWKS and
 * RFC 9068 access tokens under its own issuer URL. Close it when done.
 * @example
 * const issuer = await createTestOidcIssuer({ audience: "api://orders" });
 * app.use(requireToken(issuer.options()));
 * const token = issuer.accessToken({ sub: "u1", scope: "orders:read" });
 * await issuer.close();
 */
export async function createTestOidcIssuer(options: TestOidcIssuerOptions = {}): Promise<TestOidcIssuer> {
  const algorithm = options.algorithm ?? "RS256";
  if (!Object.hasOwn(KEY_PAIRS, algorithm)) {
    throw new TypeError(`bearer-gate/testing: cannot sign with ${JSON.stringify(algorithm)}.`);
  }
  const path = (options.path ?? "").replace(/\/$/, "");
  if (path !== "" && !/^\/[\w./-]*$/.test(path)) {
    throw new TypeError(`bearer-gate/testing: the issuer path ${JSON.stringify(path)} must start with "/".`);
  }
  const audience = options.audience ?? "api://bearer-gate-test";
  const clientId = options.clientId ?? "bearer-gate-test-client";
  let keys = [newKey(algorithm)];
  let url = "";
  const server = await startKeyServer((requested) => {
    if (requested === `${path}/.well-known/openid-configuration`) {
      return {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        token_endpoint: `${url}/token`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [algorithm],
      };
    }
    return requested === `${path}/jwks` ? { keys: keys.map((key) => key.jwk) } : undefined;
  });
  url = `${server.origin}${path}`;
  const current = (): SigningKey => keys[keys.length - 1] as SigningKey;
  const mint = (defaults: Record<string, unknown>, { expiresIn = 3600, dpopKey, ...claims }: TestClaims): string => {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: url,
      aud: audience,
      client_id: clientId,
      iat: now,
      exp: now + expiresIn,
      jti: randomUUID(),
      ...defaults,
      ...(dpopKey === undefined ? {} : { cnf: { jkt: dpopKey.thumbprint } }),
      ...claims,
    };
    return signJwt(current(), payload, "at+jwt");
  };
  return {
    url,
    jwksUri: `${url}/jwks`,
    audience,
    clientId,
    algorithm,
    get requests() {
      return server.requests;
    },
    options: (extra = {}) => ({
      ...(algorithm === "RS256" ? {} : { algorithms: [algorithm] }),
      ...extra,
      issuerUrl: url,
      audience,
    }),
    accessToken: (claims = {}) => mint({ sub: "bearer-gate-test-user", scope: "openid profile" }, claims),
    machineToken: (claims = {}) => mint({ sub: clientId }, claims),
    rotate: () => {
      keys = [...keys, newKey(algorithm)];
      return Promise.resolve(current().kid);
    },
    retire: () => {
      keys = [current()];
    },
    close: () => server.close(),
  };
}
