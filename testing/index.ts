import { constants, createHash, randomUUID, sign as signWith, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { jwkThumbprint } from "../src/index.js";
import type { CognitoOptions, TokenUse, VerifierOptions } from "../src/index.js";
import { KEY_PAIRS, newKey, signJwt, startKeyServer, type SigningKey, type TestAlgorithm } from "./keys.js";

export type { TestAlgorithm };
export { createTestOidcIssuer, type TestOidcIssuer, type TestOidcIssuerOptions } from "./oidc.js";

/**
 * Claims to set or override in a test token; `expiresIn` (seconds from now, may be negative) sets
 * `exp`; `dpopKey` binds the token to a DPoP key (`cnf.jkt`, RFC 9449 §6).
 */
export type TestClaims = Record<string, unknown> & {
  expiresIn?: number | undefined;
  dpopKey?: TestDpopKey | undefined;
};

/**
 * Claims of a test issuer's token; besides `expiresIn`, `clientId` (not a claim) sets this token's
 * `client_id` (an access token) or `aud` (an ID token) in place of the issuer's.
 */
export type CognitoTestClaims = TestClaims & { clientId?: string | undefined };

/** Options of `createTestIssuer`. */
export interface TestIssuerOptions {
  /** The pretend pool id; default `us-east-1_BearerGate`. */
  userPoolId?: string | undefined;
  /** The app client its tokens are for; default `bearer-gate-test-client`. */
  clientId?: string | undefined;
  /**
   * What it signs with: `RS256` (default, as Cognito), `RS384`, `RS512`, `PS256`, `PS384`, `PS512`,
   * `ES256`, `ES384`, `ES512`, or `EdDSA` (Ed25519). Its key set serves the matching key, and
   * `cognitoOptions()` allows this algorithm.
   */
  algorithm?: TestAlgorithm | undefined;
}

/** Options of `issuer.cognitoOptions()`: which clients and token kind to accept, plus any verifier option. */
export type TestCognitoOptions = {
  /** The client id(s) the verifier accepts; default the issuer's own `clientId`. Never changes the issuer. */
  clientId?: string | readonly string[] | undefined;
  /** Default `"access"`. */
  tokenUse?: TokenUse | undefined;
} & Omit<VerifierOptions, "cognito">;

/** Options of `hmacTokens`. */
export interface HmacTokensOptions {
  /** The `aud` of the tokens, and the audience `options()` accepts; default `bearer-gate-test-audience`. */
  audience?: string | undefined;
}

/** A local stand-in for an Amazon Cognito user pool: a JWKS on 127.0.0.1 and tokens signed by it. */
export interface TestIssuer {
  /** The pretend pool id, `us-east-1_BearerGate` unless told. */
  readonly userPoolId: string;
  /** The issuer its tokens carry: Cognito's URL for the pool. */
  readonly issuer: string;
  /** Where its JWKS is served, on 127.0.0.1. */
  readonly jwksUri: string;
  /** The algorithm its tokens are signed with. */
  readonly algorithm: TestAlgorithm;
  /**
   * The app client its tokens are for (`client_id` of access tokens, `aud` of ID tokens), fixed at
   * `createTestIssuer({ clientId })`; a token may name another with `accessToken({ clientId })`.
   */
  readonly clientId: string;
  /** How many times the JWKS was fetched. */
  readonly jwksRequests: number;
  /**
   * Verifier options for this pool (`cognito` and a `jwksUri` pointing here), plus any you add. By
   * default they accept the issuer's own `clientId`; `{ clientId }` names the clients to accept
   * instead, and changes nothing about the tokens the issuer mints.
   */
  cognitoOptions(options?: TestCognitoOptions): VerifierOptions & { cognito: CognitoOptions };
  /** A Cognito-shaped access token, valid for an hour unless `expiresIn` says otherwise. */
  accessToken(claims?: CognitoTestClaims): string;
  /**
   * A Cognito client-credentials access token: a machine's, with no `username`, whose `sub` is the
   * client id and whose scopes are a resource server's (`orders/read` unless `scope` says otherwise).
   * `requireUser()` refuses it (420).
   */
  machineToken(claims?: CognitoTestClaims): string;
  /** A Cognito-shaped ID token for `clientId` (or the `aud` you give). */
  idToken(claims?: CognitoTestClaims): string;
  /** Signs with a new key; the old one is still served until `retire()`. Resolves to the new `kid`. */
  rotate(): Promise<string>;
  /** Stops serving every key but the current one. */
  retire(): void;
  /** Stops the JWKS server and drops its connections: no open handles remain. */
  close(): Promise<void>;
}

/**
 * Starts a test issuer: a JWKS server on 127.0.0.1 (random port) and Cognito-shaped tokens signed by
 * it, for your own tests. Close it when done.
 * @example
 * const issuer = await createTestIssuer({ clientId: "web" });
 * app.use(requireToken(issuer.cognitoOptions()));
 * const token = issuer.accessToken({ scope: "posts users", sub: "u1" });
 * await issuer.close();
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const userPoolId = options.userPoolId ?? "us-east-1_BearerGate";
  const region = userPoolId.split("_")[0] ?? "us-east-1";
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const algorithm = options.algorithm ?? "RS256";
  if (!Object.hasOwn(KEY_PAIRS, algorithm)) {
    throw new TypeError(`bearer-gate/testing: cannot sign with ${JSON.stringify(algorithm)}.`);
  }
  let keys = [newKey(algorithm)];
  const server = await startKeyServer(() => ({ keys: keys.map((key) => key.jwk) }));
  const jwksUri = `${server.origin}/${userPoolId}/.well-known/jwks.json`;
  const current = (): SigningKey => keys[keys.length - 1] as SigningKey;
  const clientId = options.clientId ?? "bearer-gate-test-client";

  const testIssuer: TestIssuer = {
    userPoolId,
    issuer,
    jwksUri,
    clientId,
    algorithm,
    get jwksRequests() {
      return server.requests;
    },
    cognitoOptions({ clientId: accepted = clientId, tokenUse, ...rest } = {}) {
      return {
        ...(algorithm === "RS256" ? {} : { algorithms: [algorithm] }),
        ...rest,
        cognito: { userPoolId, clientId: accepted, tokenUse },
        jwksUri,
      };
    },
    accessToken(claims = {}) {
      return signJwt(current(), cognitoClaims(issuer, "access", clientId, claims));
    },
    machineToken({ clientId: client = clientId, ...claims } = {}) {
      // what Cognito issues by the client credentials grant: no user, so no username or auth_time
      // (unless the claims given name them)
      const built = cognitoClaims(issuer, "access", client, { sub: client, scope: "orders/read", ...claims });
      const userOnly = (name: string): boolean => (name === "username" || name === "auth_time") && !(name in claims);
      return signJwt(current(), Object.fromEntries(Object.entries(built).filter(([name]) => !userOnly(name))));
    },
    idToken(claims = {}) {
      return signJwt(current(), cognitoClaims(issuer, "id", clientId, claims));
    },
    rotate() {
      keys = [...keys, newKey(algorithm)];
      return Promise.resolve(current().kid);
    },
    retire() {
      keys = [current()];
    },
    close: () => server.close(),
  };
  return testIssuer;
}

/** The API's own HS256 tokens (as its access_token object shows), signed with `secret`. */
export interface HmacTokens {
  /** An access token (`iss` Rooms-API-Internal-Access, `token_type` access), valid for a day unless `expiresIn` says otherwise. */
  access(claims?: TestClaims): string;
  /** A refresh token (`iss` Rooms-API-Internal-Refresh, `token_type` refresh, no `exp` unless `expiresIn` is given). */
  refresh(claims?: TestClaims): string;
  /** Verifier options that accept these access tokens (secret, issuer, audience). */
  options(extra?: Omit<VerifierOptions, "secret">): VerifierOptions;
}

/**
 * HMAC tokens shaped like the API's own, for tests. Their claims are those of the API's access and
 * refresh tokens: `uid` (the user's id, 2), `lid` (the login session's, 31), `atid` (the access-token
 * record that holds the scopes, 36), `type: "user"`, `token_type` and a `jti`; override any of them.
 */
export function hmacTokens(secret: string, options: HmacTokensOptions = {}): HmacTokens {
  const audience = options.audience ?? "bearer-gate-test-audience";
  const sign = (kind: "access" | "refresh", { expiresIn, dpopKey, ...claims }: TestClaims): string => {
    const now = Math.floor(Date.now() / 1000);
    const jti = `2-${now}-${kind}-${randomUUID()}`;
    const exp = expiresIn !== undefined ? now + expiresIn : kind === "access" ? now + 86_400 : undefined;
    const payload = {
      iss: kind === "access" ? "Rooms-API-Internal-Access" : "Rooms-API-Internal-Refresh",
      aud: audience,
      jti,
      iat: now,
      ...(exp === undefined ? {} : { exp }),
      token_type: kind,
      type: "user",
      uid: 2,
      lid: 31,
      atid: 36,
      ...(kind === "access" ? { scope: "users,posts,camps" } : {}),
      ...(dpopKey === undefined ? {} : { cnf: { jkt: dpopKey.thumbprint } }),
      ...claims,
    };
    // the API's own header: typ, alg and its jti (a header field jsonwebtoken's types do not list)
    const header: jwt.JwtHeader & { jti: string } = { alg: "HS256", typ: "JWT", jti };
    return jwt.sign(payload, secret, { algorithm: "HS256", noTimestamp: payload.iat === undefined, header });
  };
  return {
    access: (claims = {}) => sign("access", claims),
    refresh: (claims = {}) => sign("refresh", claims),
    options: (extra = {}) => ({ ...extra, secret, issuer: "Rooms-API-Internal-Access", audience }),
  };
}

function cognitoClaims(
  issuer: string,
  use: "access" | "id",
  clientId: string,
  { expiresIn = 3600, clientId: tokenClient, dpopKey, ...claims }: CognitoTestClaims,
): Record<string, unknown> {
  const client = tokenClient ?? clientId;
  const now = Math.floor(Date.now() / 1000);
  const common = {
    sub: "2f190942-c269-4124-93d7-5a7fa90144c9",
    iss: issuer,
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    token_use: use,
    auth_time: now,
    exp: now + expiresIn,
    iat: now,
    jti: randomUUID(),
    ...(dpopKey === undefined ? {} : { cnf: { jkt: dpopKey.thumbprint } }),
  };
  // every claim Cognito puts in each kind of token
  return use === "access"
    ? { ...common, client_id: client, scope: "aws.cognito.signin.user.admin", username: "test-user", ...claims }
    : {
        ...common,
        aud: client,
        email_verified: true,
        "cognito:username": "test-user",
        email: "test-user@example.com",
        ...claims,
      };
}

/** The algorithms a test DPoP key signs proofs with. */
export type TestDpopAlgorithm = "ES256" | "EdDSA" | "RS256" | "PS256";

/** What a DPoP proof is made for (RFC 9449 §4.2); every field but `method` and `url` may be left out. */
export interface DpopProofOptions {
  /** The request's method: `htm`. */
  method: string;
  /** The request's URL, `https://api.example.com/orders` (query and fragment are dropped): `htu`. */
  url: string;
  /** The access token sent with the proof: its hash is `ath`. */
  accessToken?: string | undefined;
  /** The server's nonce (`DPoP-Nonce`). */
  nonce?: string | undefined;
  /** `iat`, in seconds; default now. */
  iat?: number | undefined;
  /** `jti`; default a new UUID. */
  jti?: string | undefined;
  /** More claims, or claims to override (a test of a hostile proof). */
  claims?: Record<string, unknown> | undefined;
  /** Header fields to add or override (`typ`, `alg`, `jwk`). */
  header?: Record<string, unknown> | undefined;
}

/** A client's DPoP key: binds test tokens (`accessToken({ dpopKey })`) and signs their proofs. */
export interface TestDpopKey {
  readonly algorithm: TestDpopAlgorithm;
  /** The public JWK a proof carries. */
  readonly publicJwk: Readonly<Record<string, unknown>>;
  /** Its RFC 7638 thumbprint: the `cnf.jkt` of the tokens bound to it. */
  readonly thumbprint: string;
  readonly privateKey: KeyObject;
  /** A DPoP proof for one request: put it in the `DPoP` header, the token after `Authorization: DPoP`. */
  proof(options: DpopProofOptions): string;
}

/**
 * A DPoP key pair for tests, as a DPoP client holds one: `ES256` (default), `EdDSA`, `RS256` or `PS256`.
 * @example
 * const key = createDpopKey();
 * const token = issuer.accessToken({ dpopKey: key });
 * await request(app).get("/orders").set("Authorization", `DPoP ${token}`)
 *   .set("DPoP", key.proof({ method: "GET", url: "https://api.example.com/orders", accessToken: token }));
 */
export function createDpopKey(algorithm: TestDpopAlgorithm = "ES256"): TestDpopKey {
  if (!Object.hasOwn(SIGNERS, algorithm)) {
    throw new TypeError(`bearer-gate/testing: no DPoP key for ${JSON.stringify(algorithm)}.`);
  }
  const { publicKey, privateKey } = KEY_PAIRS[algorithm]();
  const publicJwk = Object.freeze({ ...publicKey.export({ format: "jwk" }) }) as Readonly<Record<string, unknown>>;
  const thumbprint = jwkThumbprint(publicJwk) as string;
  return {
    algorithm,
    publicJwk,
    thumbprint,
    privateKey,
    proof: (options) => dpopProof({ algorithm, publicJwk, privateKey }, options),
  };
}

/** A DPoP proof signed by `key` (see `createDpopKey`): the same as `key.proof(options)`. */
export function dpopProof(
  key: Pick<TestDpopKey, "algorithm" | "publicJwk" | "privateKey">,
  options: DpopProofOptions,
): string {
  const url = new URL(options.url);
  const header = { typ: "dpop+jwt", alg: key.algorithm, jwk: key.publicJwk, ...options.header };
  const payload = {
    jti: options.jti ?? randomUUID(),
    htm: options.method,
    htu: `${url.origin}${url.pathname}`,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken === undefined
      ? {}
      : { ath: createHash("sha256").update(options.accessToken).digest("base64url") }),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...options.claims,
  };
  const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = Buffer.from(`${segment(header)}.${segment(payload)}`);
  const signature = SIGNERS[key.algorithm](input, key.privateKey);
  return `${input.toString()}.${signature.toString("base64url")}`;
}

// RFC 7518 §3.3-§3.5 and RFC 8037 §3.1, over the signing input
const SIGNERS: Readonly<Record<TestDpopAlgorithm, (input: Buffer, key: KeyObject) => Buffer>> = {
  ES256: (input, key) => signWith("sha256", input, { key, dsaEncoding: "ieee-p1363" }),
  EdDSA: (input, key) => signWith(null, input, key),
  RS256: (input, key) => signWith("sha256", input, key),
  PS256: (input, key) => signWith("sha256", input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
};
