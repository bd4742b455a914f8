import { bool, fn, MAX_CLOCK_TOLERANCE, nonEmpty, number, plainObject, rejectUnknown } from "./check.js";
import { ConfigError } from "../errors/errors.js";
import { describePools, stringList, type CognitoOptions, type CognitoPool, type TokenUse } from "../keys/cognito.js";
import { openIdConfigurationUrl, type JwksFetchOptions, type JwksSettings } from "../keys/jwks.js";
import { defaultAlgorithms, publicKeys, type PublicKeyInput, type VerifyingKey } from "../keys/public.js";
import { secretKey } from "../keys/secret.js";
import { checkIssuerUrl, checkUrl } from "./urls.js";
import { issuersPolicy, type IssuerOptions, type IssuersPolicy } from "./issuers.js";
import {
  protectedResource,
  type BindingMetadata,
  type ProtectedResource,
  type ResourceMetadataOptions,
} from "../resource/metadata.js";
import { HMAC_ALGORITHMS, keyFits, PUBLIC_KEY_ALGORITHMS, type Algorithm } from "../token/signature.js";
import type { KeyObject } from "node:crypto";
import type { Claims } from "../types.js";
import type { TokenCacheOptions } from "../cache.js";
import { dpopPolicy, type DpopOptions, type DpopPolicy } from "../dpop/options.js";
import type { ClientCertificate } from "../mtls/certificate.js";
import { claimPath, type ClaimPath } from "../token/path.js";

/** HMAC algorithms, for a `secret`. */
export type HmacAlgorithm = Extract<Algorithm, `HS${string}`>;
/** Public-key algorithms, for `cognito`, `jwksUri`, `issuerUrl` or `publicKey`. */
export type PublicKeyAlgorithm = Exclude<Algorithm, HmacAlgorithm>;
export type { Algorithm };

/** Scopes as `getScopes` may give them: a list, or a space- or comma-delimited string. */
export type ScopeSource = string | readonly string[];

/** A required claim: the exact value it must have, or a predicate it must pass. */
export type ClaimMatcher = string | number | boolean | null | ((value: unknown) => boolean);

/**
 * Options of `createVerifier`, `requireToken` (Express) and `requireToken` (Koa). `Request` is what
 * `getToken` and `getScopes` are handed (the adapters' `req` / `ctx`); `C` your claims' types, as
 * in `AuthContext<C>`.
 */
export interface VerifierOptions<Request = unknown, C extends object = Claims> {
  /**
   * HMAC secret (string or Buffer). Algorithms default to `["HS256"]`. RFC 7518 §3.2: at least as
   * many bytes as the hash, 32 for HS256, 48 for HS384, 64 for HS512 (`openssl rand -base64 48`).
   */
  secret?: string | Buffer | undefined;
  /**
   * `true` accepts a `secret` shorter than RFC 7518 requires, for an API migrating from one; a
   * warning is emitted at construction. Rotate to a long secret, then remove this. Default `false`.
   */
  allowShortSecret?: boolean | undefined;
  /**
   * An Amazon Cognito user pool: derives the issuers and the JWKS URL. Or a list of pools: a token
   * is matched to its pool by `iss` and verified only with that pool's keys and client ids.
   */
  cognito?: CognitoOptions | readonly CognitoOptions[] | undefined;
  /** Any JWKS endpoint; with `cognito` it replaces the derived URL. Algorithms default to `["RS256"]`. */
  jwksUri?: string | undefined;
  /**
   * An OpenID Connect or OAuth 2.0 issuer: its key set is found from its discovery document
   * (`/.well-known/openid-configuration`, or RFC 8414's `/.well-known/oauth-authorization-server`),
   * whose `issuer` must equal this exactly; it is then the only `iss` allowed. The document is read
   * again with every download of the key set. Not with `jwksUri`, `cognito` or `issuer`.
   */
  issuerUrl?: string | undefined;
  /**
   * Public keys of your own, with no key server: a PEM string, a JWK object, a `KeyObject`, or a
   * list of them for a rotation (matched by `kid` when the keys carry one, as JWKs do). Algorithms
   * default to the keys' own (RSA: RS256; P-256: ES256; Ed25519: EdDSA and Ed25519) and may name
   * others of the same family. A private key is refused.
   */
  publicKey?: PublicKeyInput | readonly PublicKeyInput[] | undefined;
  /** How the JWKS is fetched and cached. */
  jwksFetch?: JwksFetchOptions | undefined;
  /** A name for this verifier in the events it publishes (`CHANNELS.verification`): which API, which gate. */
  name?: string | undefined;
  /**
   * `true` lets keys come over plain `http` from hosts other than this machine: `jwksUri`,
   * `issuerUrl`, a pool's `jwksUri` and a discovered `jwks_uri`. Anyone on the network path of such
   * a download can serve their own key and mint any token, so only for a private network you trust.
   * Default `false`: `https` only, but for `localhost`, 127.0.0.0/8 and `::1` (tests, emulators).
   */
  allowInsecureHttp?: boolean | undefined;
  /** Allowed `iss` value(s); an explicit issuer overrides Cognito's. */
  issuer?: string | readonly string[] | undefined;
  /** Allowed `aud` value(s): a token matches when any of its `aud` members is allowed. */
  audience?: string | readonly string[] | undefined;
  /**
   * The API's canonical URL, as an OAuth 2.0 protected resource (RFC 8707, RFC 9728; what an MCP
   * server is): tokens must name it in `aud`, compared exactly. An absolute `https` URL with no
   * fragment (`http` on this machine). It is the audience: not with `audience`. Every 401 then names
   * its metadata document in `WWW-Authenticate` (`resource_metadata="..."`), which
   * `protectedResourceMetadata(gate)` serves.
   */
  resource?: string | undefined;
  /** With `resource`: the optional fields of its RFC 9728 metadata document (camelCase). */
  resourceMetadata?: ResourceMetadataOptions | undefined;
  /**
   * With `resource`: the scopes 401 challenges tell a client to ask for (`scope="..."`); default
   * `resourceMetadata.scopesSupported`.
   */
  challengeScope?: readonly string[] | undefined;
  /** The algorithm allow-list. HMAC and public-key algorithms never mix. */
  algorithms?: readonly Algorithm[] | undefined;
  /**
   * `"rfc9068"`: tokens must follow RFC 9068 (JWT access tokens): header `typ` `at+jwt`, and `iss`,
   * `exp`, `aud`, `sub`, `client_id`, `iat` and `jti` present. Without it, a `typ` that names
   * anything but an access token (`JWT`, `at+jwt`) is refused all the same.
   */
  profile?: "rfc9068" | undefined;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds: 0 to 300. Default 0. */
  clockTolerance?: number | undefined;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: (() => number) | undefined;
  /** Claims that must be there with this value, or pass this predicate. */
  requiredClaims?: Readonly<Record<string, ClaimMatcher>> | undefined;
  /**
   * The claim scopes are read from: a name, a dotted path into the claims, or a list of keys for
   * names that hold dots (`["https://example.com/scopes"]`). Default `"scope"`; Entra ID and Okta
   * `"scp"`, Auth0 `"permissions"`.
   */
  scopeClaim?: ClaimPath | undefined;
  /**
   * The scopes of a token whose scopes the server keeps (the API's own access tokens carry none:
   * they belong to the access-token record its `atid` names). Replaces reading `scopeClaim`; runs
   * on every request once the token is verified, cached or not. Returns a list, or a space- or
   * comma-delimited string, or a promise of one. A throw, a rejection or a result of another type
   * answers 980, never a pass. `request` is the adapters' `req` / `ctx`; `undefined` for `verify()`.
   */
  getScopes?: ((claims: Claims & C, request: Request | undefined) => ScopeSource | Promise<ScopeSource>) | undefined;
  /**
   * The claim a user's groups are read from, for `requireGroup`: a name, a dotted path
   * (`"realm_access.roles"`: Keycloak) or a list of keys (`["https://example.com/roles"]`: Auth0).
   * Default `"cognito:groups"`.
   */
  groupsClaim?: ClaimPath | undefined;
  /**
   * The groups of a token, found by the server (a database, a directory), in place of `groupsClaim`:
   * like `getScopes`, on every request once the token is verified; a list or a delimited string,
   * or a promise of one. A throw, a rejection or another type answers 980.
   */
  getGroups?: ((claims: Claims & C, request: Request | undefined) => ScopeSource | Promise<ScopeSource>) | undefined;
  /** Longest token accepted, in characters; longer is refused before parsing. Default 8192. */
  maxTokenLength?: number | undefined;
  /**
   * Default `true`; `false` lets a request with no bearer credentials (no `Authorization` header,
   * or one of another scheme, like `Basic`) through without an auth context. A malformed or bad
   * bearer token is still refused.
   */
  credentialsRequired?: boolean | undefined;
  /**
   * Reads the token from the request (a cookie, a query parameter) in place of the header.
   * `undefined`, `null` or `""` mean no token: 401 `missing_token`, or anonymous with
   * `credentialsRequired: false`.
   */
  getToken?: ((request: Request) => string | undefined | null | Promise<string | undefined | null>) | undefined;
  /** `true` refuses the token as `revoked`. Runs on every request. */
  isRevoked?: ((claims: Claims & C) => boolean | Promise<boolean>) | undefined;
  /**
   * The verified-token cache: on by default (10000 tokens, 48 MiB); `false` turns it off. A hit skips
   * the signature check only: the clock, required claims and `isRevoked` apply on every request.
   */
  tokenCache?: TokenCacheOptions | false | undefined;
  /**
   * Sender-constrained tokens by DPoP (RFC 9449): `Authorization: DPoP <token>` with a `DPoP` proof
   * header, checked against `origin` and the request, each proof taken once. A DPoP-bound token
   * (`cnf.jkt`) is never taken as a plain bearer token, with or without this option.
   */
  dpop?: DpopOptions | undefined;
  /**
   * Certificate-bound tokens (RFC 8705): `true` takes only tokens whose `cnf["x5t#S256"]` is the
   * SHA-256 of the client certificate of the request's TLS connection. Without it, a
   * certificate-bound token is refused. Default `false`.
   */
  certificateBound?: boolean | undefined;
  /**
   * Where the client certificate is, behind a proxy that ends TLS (`(req) => req.get("x-client-cert")`,
   * when that proxy sets the header and strips it from clients): PEM, DER bytes or an `X509Certificate`.
   * Default: the certificate of the request's own TLS connection. Never read from a header unless
   * you say so here.
   */
  clientCertificate?: ((request: Request) => ClientCertificate) | undefined;
  /**
   * Several issuers, any provider: each `{ issuerUrl }` (discovery) or `{ issuer, jwksUri }`, with
   * an `audience` of its own if it differs. A token is matched to its entry by `iss` and verified
   * only with that entry's keys and rules; `auth.issuer` says which. Not with `cognito`, `jwksUri`,
   * `issuerUrl` or `issuer`.
   */
  issuers?: readonly IssuerOptions[] | undefined;
  /**
   * Issuers decided per request (a tenant known only at run time): called with a token's `iss` that
   * `issuers` does not name, answers its entry (as in `issuers`, for that very `iss`) or `undefined`
   * to refuse it (`wrong_issuer`, and no download). Sync or a promise; one call per `iss` at a time.
   * The key sets of resolved issuers are kept up to `maxIssuers`, the least recently used dropped.
   */
  resolveIssuer?: ((iss: string) => IssuerOptions | undefined | Promise<IssuerOptions | undefined>) | undefined;
  /** How many resolved issuers' key sets are kept (default 50, at most 10000). */
  maxIssuers?: number | undefined;
}

/** Options that name a Cognito user pool (or several): what makes a verifier's claims `CognitoClaims`. */
export interface WithCognito {
  cognito: CognitoOptions | readonly CognitoOptions[];
}

/** Options with `cognito`: a verifier of Cognito tokens, whose claims are typed as `CognitoClaims`. */
export type CognitoVerifierOptions<Request = unknown, C extends object = Claims> = VerifierOptions<Request, C> &
  WithCognito;

/** Where the keys come from, once checked. */
export type KeySource =
  | { readonly kind: "secret"; readonly key: KeyObject }
  | { readonly kind: "static"; readonly keys: readonly VerifyingKey[] }
  | ({ readonly kind: "jwks" } & JwksSettings);

/** One user pool of several: its issuers, keys, client ids and token kind. */
export interface PoolPolicy {
  readonly userPoolId: string;
  readonly issuers: ReadonlySet<string>;
  readonly clientIds: ReadonlySet<string> | undefined;
  readonly tokenUse: TokenUse;
  readonly keySource: KeySource;
}

/** The options once checked: `verify()` trusts every field. */
export interface Policy<Request = unknown> {
  /** The one key source; `undefined` with `issuers` / `resolveIssuer`, where each issuer has its own. */
  readonly keySource: KeySource | undefined;
  /** With `issuers` / `resolveIssuer`: each issuer, matched to a token by `iss`. */
  readonly issuerSet: IssuersPolicy | undefined;
  /** The user pool's id, with `cognito`; the first pool's with several. */
  readonly userPoolId: string | undefined;
  /** With a list of two or more pools: each, matched to a token by `iss`. */
  readonly pools: readonly PoolPolicy[] | undefined;
  readonly algorithms: ReadonlySet<string>;
  /** The `name` option, for events. */
  readonly name: string | undefined;
  /** `"rfc9068"`: RFC 9068's `typ` and required claims. */
  readonly profile: "rfc9068" | undefined;
  readonly issuers: ReadonlySet<string> | undefined;
  readonly audiences: ReadonlySet<string> | undefined;
  /** With `resource`: the resource, its metadata document and where it is served. */
  readonly protectedResource: ProtectedResource | undefined;
  readonly tokenUse: TokenUse | undefined;
  readonly clientIds: ReadonlySet<string> | undefined;
  readonly clockTolerance: number;
  readonly clock: () => number;
  readonly requiredClaims: readonly (readonly [string, (value: unknown) => boolean])[];
  readonly scopeClaim: readonly string[];
  readonly getScopes: NonNullable<VerifierOptions<Request>["getScopes"]> | undefined;
  readonly groupsClaim: readonly string[];
  readonly getGroups: NonNullable<VerifierOptions<Request>["getGroups"]> | undefined;
  readonly maxTokenLength: number;
  readonly credentialsRequired: boolean;
  readonly getToken: NonNullable<VerifierOptions<Request>["getToken"]> | undefined;
  readonly isRevoked: ((claims: Claims) => boolean | Promise<boolean>) | undefined;
  readonly tokenCache: TokenCacheOptions | false;
  readonly dpop: DpopPolicy | undefined;
  readonly certificateBound: boolean;
  readonly clientCertificate: ((request: Request) => ClientCertificate) | undefined;
}

const KNOWN_OPTIONS = [
  "secret", "allowShortSecret", "cognito", "jwksUri", "issuerUrl", "publicKey", "jwksFetch", "profile", "name", "allowInsecureHttp", "issuer", "audience", "resource", "resourceMetadata", "challengeScope", "algorithms", "clockTolerance", "clock",
  "requiredClaims", "scopeClaim", "getScopes", "groupsClaim", "getGroups", "maxTokenLength", "credentialsRequired", "getToken",
  "isRevoked", "tokenCache", "dpop", "certificateBound", "clientCertificate", "issuers", "resolveIssuer", "maxIssuers",
]; // prettier-ignore
const KNOWN_FETCH_OPTIONS = [
  "timeoutMs",
  "cacheMaxAgeMs",
  "staleIfErrorMs",
  "refetchesPerMinute",
  "maxResponseBytes",
  "retryAfterFailureMs",
];
const FETCH_DEFAULTS = {
  timeoutMs: 5_000,
  cacheMaxAgeMs: 600_000,
  staleIfErrorMs: 3_600_000,
  refetchesPerMinute: 10,
  maxResponseBytes: 1_048_576,
  retryAfterFailureMs: 1_000,
} as const;

/** Checks every option once, at construction, and returns a frozen `Policy`. */
export function normalizeOptions<Request>(input: VerifierOptions<Request>): Policy<Request> {
  plainObject(input, "options");
  rejectUnknown(input, KNOWN_OPTIONS);
  const hasSecret = input.secret !== undefined;
  const hasStatic = input.publicKey !== undefined;
  const hasKeySet = input.cognito !== undefined || input.jwksUri !== undefined || input.issuerUrl !== undefined;
  const hasIssuers = input.issuers !== undefined || input.resolveIssuer !== undefined;
  if (hasIssuers && input.issuer !== undefined) {
    throw new ConfigError("`issuers` and `resolveIssuer` name each issuer: leave out `issuer`.");
  }
  const sourceCount = [hasSecret, hasStatic, hasKeySet, hasIssuers].filter(Boolean).length;
  if (sourceCount !== 1) throw new ConfigError(sourceCount > 1 ? TWO_SOURCES : noKeySource(input));
  const staticKeys = hasStatic ? publicKeys(input.publicKey) : undefined;
  const pools =
    input.cognito === undefined
      ? undefined
      : describePools(input.cognito, { jwksUri: input.jwksUri !== undefined, issuer: input.issuer !== undefined });
  const pool = pools?.[0];
  const algorithms =
    input.algorithms ?? (hasSecret ? ["HS256"] : staticKeys !== undefined ? defaultAlgorithms(staticKeys) : ["RS256"]);
  checkAlgorithms(algorithms, hasSecret ? HMAC_ALGORITHMS : PUBLIC_KEY_ALGORITHMS);
  if (staticKeys !== undefined) checkKeysFit(algorithms, staticKeys);
  const profile = checkProfile(input);
  const allowInsecureHttp = bool(input.allowInsecureHttp, "allowInsecureHttp", false);
  const discoveryIssuer = input.issuerUrl === undefined ? undefined : discoveryOf(input, allowInsecureHttp);
  const fetching = { ...fetchSettings(input.jwksFetch), allowInsecureHttp };
  const keySource: KeySource | undefined = hasIssuers
    ? undefined
    : hasSecret
      ? {
          kind: "secret",
          key: secretKey(input.secret, algorithms, bool(input.allowShortSecret, "allowShortSecret", false)),
        }
      : staticKeys !== undefined
        ? { kind: "static", keys: staticKeys }
        : discoveryIssuer !== undefined
          ? {
              kind: "jwks",
              uri: openIdConfigurationUrl(discoveryIssuer),
              discoveryIssuer,
              ...fetching,
            }
          : {
              kind: "jwks",
              uri: checkUrl(
                input.jwksUri ?? pool?.jwksUri,
                input.jwksUri === undefined ? "cognito.jwksUri" : "jwksUri",
                allowInsecureHttp,
              ),
              ...fetching,
            };
  const several =
    pools !== undefined && pools.length > 1
      ? pools.map((each, at) => poolPolicy(each, `cognito[${at}].jwksUri`, fetching))
      : undefined;
  // several issuers: each entry's audience defaults to the verifier's (the resource, when there is one)
  const topAudiences =
    typeof input.resource === "string"
      ? new Set([input.resource])
      : input.audience === undefined
        ? undefined
        : new Set(stringList(input.audience, "audience"));
  const issuerSet = issuersPolicy(input, topAudiences, fetching);
  const issuers =
    discoveryIssuer !== undefined
      ? [discoveryIssuer]
      : input.issuer === undefined
        ? pool?.issuers
        : stringList(input.issuer, "issuer");
  // the authorization servers a protected resource names: the issuers, one per Cognito pool
  const authorizationServers =
    issuerSet !== undefined
      ? issuerSet.entries.map((entry) => entry.issuer)
      : discoveryIssuer !== undefined || input.issuer !== undefined
        ? (issuers ?? [])
        : (pools ?? []).flatMap((each) => each.issuers?.slice(0, 1) ?? []);
  const clockTolerance = number(input.clockTolerance, "clockTolerance", 0, { min: 0, max: MAX_CLOCK_TOLERANCE });
  const clock = fn(input.clock, "clock") ?? Date.now;
  const maxTokenLength = number(input.maxTokenLength, "maxTokenLength", 8192, { min: 16, integer: true });
  const getToken = fn(input.getToken, "getToken");
  const dpop = dpopPolicy(input.dpop, { clockTolerance, clock, maxTokenLength });
  if (dpop !== undefined && getToken !== undefined) {
    throw new ConfigError("`dpop` reads the Authorization header's scheme and the DPoP header: not with `getToken`.");
  }
  const certificateBound = bool(input.certificateBound, "certificateBound", false);
  const clientCertificate = fn(input.clientCertificate, "clientCertificate");
  if (clientCertificate !== undefined && !certificateBound) {
    throw new ConfigError(
      "`clientCertificate` tells where certificate-bound tokens' certificates are: set `certificateBound: true` too.",
    );
  }
  // the metadata says what the gate does with sender-constrained tokens (RFC 9728 §2)
  const binding = {
    dpopSigningAlgValuesSupported: dpop?.algs.split(" "),
    dpopBoundAccessTokensRequired: dpop?.required,
    tlsClientCertificateBoundAccessTokens: certificateBound || undefined,
  };
  const resource = resourceOf(input, allowInsecureHttp, authorizationServers, binding);
  return Object.freeze({
    keySource,
    algorithms: new Set(algorithms),
    name: input.name === undefined ? undefined : nonEmpty(input.name, "name"),
    profile,
    issuers: issuers && new Set(issuers),
    audiences:
      resource !== undefined
        ? new Set([resource.resource])
        : input.audience === undefined
          ? undefined
          : new Set(stringList(input.audience, "audience")),
    protectedResource: resource,
    tokenUse: pool?.tokenUse,
    clientIds: pool?.clientIds && new Set(pool.clientIds),
    userPoolId: pool?.userPoolId,
    pools: several,
    clockTolerance,
    clock,
    requiredClaims: claimMatchers(input.requiredClaims),
    scopeClaim: claimPath(input.scopeClaim ?? "scope", "scopeClaim"),
    getScopes: fn(input.getScopes, "getScopes"),
    groupsClaim: claimPath(input.groupsClaim ?? "cognito:groups", "groupsClaim"),
    getGroups: fn(input.getGroups, "getGroups"),
    maxTokenLength,
    credentialsRequired: bool(input.credentialsRequired, "credentialsRequired", true),
    getToken,
    isRevoked: fn(input.isRevoked, "isRevoked"),
    tokenCache: cacheOptions(input.tokenCache),
    dpop,
    certificateBound,
    clientCertificate,
    issuerSet,
  });
}

const TWO_SOURCES = "give one key source: `secret`, `publicKey`, or `cognito` / `jwksUri` / `issuerUrl`, not two.";

// `secret: process.env.JWT_SECRET` with the variable unset is the usual way to get here: say so
function noKeySource(input: object): string {
  const unset = ["secret", "publicKey", "cognito", "jwksUri", "issuerUrl"].filter((name) => Object.hasOwn(input, name));
  if (unset.length === 0) return "no key source: give `secret`, `publicKey`, `cognito`, `jwksUri` or `issuerUrl`.";
  const named = unset.map((name) => `\`${name}\``).join(" and ");
  return `no key source: ${named} ${unset.length === 1 ? "is" : "are"} undefined (is the environment variable that should hold ${unset.length === 1 ? "it" : "them"} set?).`;
}

function poolPolicy(
  pool: CognitoPool,
  name: string,
  fetching: Omit<JwksSettings, "uri" | "discoveryIssuer">,
): PoolPolicy {
  // describePools has made sure each pool of a list has its own issuers and keys, or AWS's
  return {
    userPoolId: pool.userPoolId,
    issuers: new Set(pool.issuers),
    clientIds: pool.clientIds && new Set(pool.clientIds),
    tokenUse: pool.tokenUse,
    keySource: { kind: "jwks", uri: checkUrl(pool.jwksUri, name, fetching.allowInsecureHttp), ...fetching },
  };
}

// issuerUrl is the key source and the issuer at once: nothing else may name either
function discoveryOf(input: VerifierOptions<never>, allowInsecureHttp: boolean): string {
  const others = (["jwksUri", "cognito", "issuer"] as const).filter((name) => input[name] !== undefined);
  if (others.length > 0) {
    throw new ConfigError(
      `\`issuerUrl\` finds the key set and is the allowed issuer: leave out ${others.map((name) => `\`${name}\``).join(" and ")}.`,
    );
  }
  return checkIssuerUrl(input.issuerUrl, "issuerUrl", allowInsecureHttp);
}

function checkAlgorithms(algorithms: unknown, allowed: readonly string[]): void {
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new ConfigError("`algorithms` must be a non-empty list.");
  }
  // never mixed (no HMAC/RSA confusion), never "none"
  const stray = (algorithms as unknown[]).filter((alg) => typeof alg !== "string" || !allowed.includes(alg));
  if (stray.length > 0) {
    throw new ConfigError(
      `\`algorithms\`: ${stray.map(String).join(", ")} cannot be used with this key source (allowed: ${allowed.join(", ")}).`,
    );
  }
}

// `resource` is the audience tokens must name; its metadata names the issuers as authorization servers
function resourceOf(
  input: VerifierOptions<never>,
  allowInsecureHttp: boolean,
  issuers: readonly string[],
  binding: BindingMetadata,
): ProtectedResource | undefined {
  if (input.resource === undefined) {
    const stray = (["resourceMetadata", "challengeScope"] as const).filter((name) => input[name] !== undefined);
    if (stray.length > 0)
      throw new ConfigError(`${stray.map((name) => `\`${name}\``).join(" and ")} go with \`resource\`.`);
    return undefined;
  }
  if (input.audience !== undefined) {
    throw new ConfigError(
      "`resource` is the audience tokens must name (RFC 8707): name it once, and leave out `audience`.",
    );
  }
  return protectedResource({ ...input, allowInsecureHttp }, issuers, binding);
}

// every allowed algorithm must be one some given key verifies with: RS256 with an Ed25519 key only
// would refuse every token, which is a typo to catch now
function checkKeysFit(algorithms: readonly string[], keys: readonly VerifyingKey[]): void {
  const stray = algorithms.filter((alg) => !keys.some(({ key }) => keyFits(alg, key)));
  if (stray.length > 0) {
    const types = [...new Set(keys.map(({ key }) => key.asymmetricKeyDetails?.namedCurve ?? key.asymmetricKeyType))];
    throw new ConfigError(
      `\`algorithms\`: ${stray.join(", ")} cannot be used with the given \`publicKey\` (${types.join(", ")}).`,
    );
  }
}

// RFC 9068 access tokens carry aud and typ at+jwt: Cognito's carry neither
function checkProfile(input: VerifierOptions<never>): "rfc9068" | undefined {
  const { profile } = input;
  if (profile === undefined) return undefined;
  if (profile !== "rfc9068") throw new ConfigError(`\`profile\` must be "rfc9068", got ${JSON.stringify(profile)}.`);
  if (input.cognito !== undefined) {
    throw new ConfigError(
      '`profile: "rfc9068"` cannot verify Cognito access tokens (they carry neither `typ: at+jwt` nor `aud`).',
    );
  }
  return profile;
}

function fetchSettings(input: JwksFetchOptions | undefined): Omit<JwksSettings, "uri" | "allowInsecureHttp"> {
  if (input === undefined) return FETCH_DEFAULTS;
  rejectUnknown(plainObject(input, "jwksFetch"), KNOWN_FETCH_OPTIONS, "`jwksFetch`");
  const setting = (key: keyof typeof FETCH_DEFAULTS, min: number): number =>
    number(input[key], `jwksFetch.${key}`, FETCH_DEFAULTS[key], { min, integer: true });
  return {
    timeoutMs: setting("timeoutMs", 1),
    cacheMaxAgeMs: setting("cacheMaxAgeMs", 0),
    staleIfErrorMs: setting("staleIfErrorMs", 0),
    refetchesPerMinute: setting("refetchesPerMinute", 0),
    maxResponseBytes: setting("maxResponseBytes", 1024),
    retryAfterFailureMs: setting("retryAfterFailureMs", 0),
  };
}

function cacheOptions(input: unknown): TokenCacheOptions | false {
  if (input === false) return false;
  if (input === undefined) return {};
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ConfigError("`tokenCache` must be an object or false.");
  }
  rejectUnknown(input, ["maxEntries", "maxBytes"], "`tokenCache`");
  return input;
}

function claimMatchers(input: VerifierOptions["requiredClaims"]): Policy["requiredClaims"] {
  if (input === undefined) return [];
  plainObject(input, "requiredClaims");
  return Object.entries(input).map(([name, expected]) => {
    if (typeof expected === "function") return [name, expected] as const;
    if (expected === null || ["string", "number", "boolean"].includes(typeof expected)) {
      return [name, (value: unknown) => value === expected] as const;
    }
    throw new ConfigError(`\`requiredClaims.${name}\` must be a string, number, boolean, null or a predicate.`);
  });
}
