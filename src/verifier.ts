import type { KeyObject } from "node:crypto";
import { TokenCache } from "./cache.js";
import { isThenable, readClock } from "./options/check.js";
import { checkClaims, checkRequired, checkTimes, checkType, type ClaimRules } from "./token/claims.js";
import { buildAuthContext } from "./access/context.js";
import { decodeJwt, type DecodedJwt } from "./token/decode.js";
import { inEnvTerms } from "./options/env.js";
import { ConfigError, quote, TokenError, toTokenError } from "./errors/errors.js";
import {
  checkTokenChars,
  checkTokenLength,
  isOtherScheme,
  readBearer,
  readCredentials,
  readHeaderValues,
} from "./token/header.js";
import { recordProof } from "./dpop/replay.js";
import { checkBinding, type Binding, type BindingRequest, type CheckedBinding, type Scheme } from "./token/binding.js";
import { peerCertificate } from "./mtls/certificate.js";
import { verificationChannel, type VerificationEvent } from "./events.js";
import { JwksKeys, type KeySetStatus } from "./keys/jwks.js";
import type { ProtectedResource } from "./resource/metadata.js";
import type { ChallengeOptions, DpopChallenge } from "./errors/response.js";
import { challengeOptions } from "./resource/metadata.js";
import { StaticKeys } from "./keys/public.js";
import { IssuerRegistry } from "./keys/issuers.js";
import type { IssuerPolicy } from "./options/issuers.js";
import {
  normalizeOptions,
  type CognitoVerifierOptions,
  type KeySource,
  type Policy,
  type VerifierOptions,
} from "./options/options.js";
import { parseGroups, parseScopes } from "./access/scopes.js";
import { readPath } from "./token/path.js";
import { signatureVerifiers, verifySignature, type SignatureVerifier } from "./token/signature.js";
import type { AuthContext, Claims, CognitoClaims, JwtHeader } from "./types.js";

/**
 * Verifies bearer tokens against one policy. Every method rejects only with a `TokenError`. `C`
 * types the claims of the auth contexts it resolves to (`CognitoClaims` for a Cognito verifier).
 */
export interface Verifier<C extends object = Claims, Request = unknown> {
  /**
   * Verifies an `Authorization` header value (or the list of them); a missing header is
   * `missing_token`. With `dpop` or `certificateBound`, `request` says what the token is checked
   * against: the method, path and `DPoP` header, and the client certificate.
   */
  verify(authorization: string | readonly string[] | undefined, request?: BindingRequest): Promise<AuthContext<C>>;
  /** Verifies a bare token (no `Bearer` scheme). */
  verifyToken(token: string): Promise<AuthContext<C>>;
  /**
   * What the adapters call once per request: reads the token with `getToken` when set, else from
   * `authorization`, and resolves to `undefined` for a request with no credentials when
   * `credentialsRequired` is `false`.
   */
  authenticate(
    request: Request,
    authorization: string | readonly string[] | undefined,
  ): Promise<AuthContext<C> | undefined>;
  /**
   * Resolves once the keys are at hand: at once for a `secret`; for a key set, once it is
   * downloaded and holds a usable key. Rejects with a `KeySetError` naming the URL and the cause.
   * `await verifier.ready()` before `app.listen()`: a wrong `jwksUri` or region then stops the
   * start, and the first request does not wait for the download. With `{ waitMs }`, keeps trying
   * (with back-off) until the keys are at hand or `waitMs` has passed, then rejects with the last
   * cause: a start-up that waits for a key server still coming up.
   */
  ready(options?: ReadyOptions): Promise<void>;
  /** What the key sets are doing now: for a readiness probe (`ready`) or a dashboard. */
  status(): VerifierStatus;
}

/** Options of `ready()`. */
export interface ReadyOptions {
  /** How long to keep trying, in ms; default 0: one try (or the last failure's cause, within its back-off). */
  waitMs?: number | undefined;
}

/** `status()`: each key set (none for a `secret` or `publicKey`), and whether every one is usable. */
export interface VerifierStatus {
  /** Every key set holds usable keys now: what a readiness probe asks. */
  readonly ready: boolean;
  readonly keySets: readonly KeySetStatus[];
}

interface Keys {
  resolve(header: JwtHeader): KeyObject | Promise<KeyObject>;
  ready(): Promise<void>;
  status(): KeySetStatus | undefined;
  /** Names the key set in use; a cached verification holds only under the same stamp. */
  stamp(): number;
}

/**
 * Checks the options (a bad one throws a `ConfigError` now, not at the first request) and returns
 * a verifier. With `cognito`, its claims are typed as `CognitoClaims`; `createVerifier<MyClaims>()`
 * adds your own claims' types (a promise about your tokens, not a check: `requiredClaims` checks).
 * @example
 * const verifier = createVerifier({ cognito: { userPoolId: "sa-east-1_6ygLpRK0e", clientId: "web" } });
 * const auth = await verifier.verify(req.headers.authorization);
 */
// two signatures for two defaults of C: with `cognito` the claims are CognitoClaims
export function createVerifier<C extends object = CognitoClaims, Request = unknown>(
  options: CognitoVerifierOptions<Request, C>,
): Verifier<C, Request>;
export function createVerifier<C extends object = Claims, Request = unknown>(
  // eslint-disable-next-line @typescript-eslint/unified-signatures -- one signature cannot default C by the options given
  options: VerifierOptions<Request, C>,
): Verifier<C, Request>;
export function createVerifier<C extends object, Request>(options: VerifierOptions<Request, C>): Verifier<C, Request> {
  return createGate<Request, C>(options).verifier;
}

/** An answer now, or a promise of one that rejects only with a `TokenError`. */
type Now<T> = T | Promise<T>;

/**
 * What the adapters build on: the verifier, and `authenticate` without a promise where none is
 * needed (a cache hit, a key at hand, no `isRevoked` store), so a request goes on in the same tick.
 * Internal: not exported from the package.
 */
export interface Gate<Request, C extends object = Claims> {
  readonly verifier: Verifier<C, Request>;
  /** With `resource`: what the adapters serve and name in their challenges. */
  readonly protectedResource: ProtectedResource | undefined;
  /**
   * As `verifier.authenticate`, but throws a `TokenError` or answers at once when it can. With
   * `dpop` or `certificateBound`, `incoming` (the Node request) and `target` (its path as received)
   * give what the binding is checked against.
   */
  authenticateNow(
    request: Request,
    authorization: string | readonly string[] | undefined,
    incoming?: IncomingRequest,
    target?: string,
  ): Now<AuthContext<C> | undefined>;
  /**
   * What a refusal's challenge adds for a request with this `Authorization` header: the protected
   * resource's metadata and scopes, and with `dpop` the `DPoP` challenge and the current nonce.
   */
  readonly challenge: (authorization: string | readonly string[] | undefined) => ChallengeOptions | undefined;
  /** With `dpop.nonce`: the nonce every response hands out in `DPoP-Nonce`; else `undefined`. */
  readonly nonce: (() => string) | undefined;
}

/** What of Node's request (`IncomingMessage`, `Http2ServerRequest`) a binding is checked against. */
export interface IncomingRequest {
  readonly method?: string | undefined;
  readonly rawHeaders: readonly string[];
  readonly socket?: unknown;
}

/** Checks the options, like `createVerifier`, and returns the verifier with the adapters' way in. */
export function createGate<Request = unknown, C extends object = Claims>(
  options: VerifierOptions<Request, C>,
): Gate<Request, C> {
  // `C` is the caller's word about its claims (like jose's jwtVerify<T>), checked by nothing: the
  // gate works on `Claims`, and its answers are handed out under the caller's type
  return gateOf(options as VerifierOptions<Request>) as unknown as Gate<Request, C>;
}

function gateOf<Request>(options: VerifierOptions<Request>): Gate<Request> {
  const policy = inEnvTerms(options, () => normalizeOptions(options));
  const registry = sourcesOf(policy);
  // a source dropped from the registry (a resolved issuer, least recently used) stamps nothing: a
  // verification cached under it is never taken again
  const fixed = registry.fixed();
  const stampOf = (source: number): number =>
    source < fixed.length ? (fixed[source] as Source).keys.stamp() : (registry.get(source)?.keys.stamp() ?? -1);
  const verifiers = signatureVerifiers(policy.algorithms);
  const cache = policy.tokenCache === false ? undefined : new TokenCache(policy.tokenCache);
  const resource = policy.protectedResource?.resource;
  const resourceChallenge = challengeOptions(policy.protectedResource);
  // the request is read for a binding only when the policy checks one
  const binds = policy.dpop !== undefined || policy.certificateBound;

  // The only place that knows the order of the steps; the clock is read once per request. Nothing
  // here waits when the key is at hand (a secret, a cached JWKS key) and isRevoked answers at once:
  // the answer comes back in the same tick. Throws anything; a promise it returns rejects only
  // with a TokenError.
  function verifyNow(
    token: string,
    fromHeader: boolean,
    request: Request | undefined,
    scheme: Scheme,
    http: BindingRequest | undefined,
  ): Now<AuthContext> {
    const now = readClock(policy.clock) / 1000; // throws, and so answers 980, rather than judge against NaN
    checkTokenLength(token, policy.maxTokenLength);
    const hit = cache?.get(token, stampOf);
    if (facts !== undefined) facts.cache = hit === undefined ? "miss" : "hit";
    if (hit !== undefined) {
      // signature and claims verified under these very keys; the clock and the rules that may read
      // outside state apply again
      checkTimes(hit, policy.clockTolerance, now);
      checkRequired(hit.claims, policy);
      return finish(hit.token, hit, now, request, scheme, http); // the cache's own copy: see TokenCache.set
    }
    let decoded: DecodedJwt;
    try {
      decoded = decodeJwt(token); // refuses any character but base64url and the two dots
    } catch (error) {
      // from the header, one that no token holds (a space: two tokens) is a malformed header
      if (fromHeader) checkTokenChars(token);
      throw error;
    }
    if (facts !== undefined) facts.algorithm = decoded.header.alg;
    checkType(decoded.header["typ"], policy.profile);
    const verify = verifiers.get(decoded.header.alg);
    if (verify === undefined) {
      throw new TokenError("algorithm_not_allowed", undefined, {
        cause: new Error(`alg ${quote(decoded.header.alg)}`),
      });
    }
    // several issuers (pools, `issuers`, `resolveIssuer`): the one the token names, and no other's
    // keys or rules; an issuer nobody accepts costs no download
    const at = registry.single ? 0 : registry.find(decoded.payload.iss);
    if (typeof at === "number") return withKey(token, decoded, at, verify, now, request, scheme, http);
    return at.then(
      (found) => promised(() => withKey(token, decoded, found, verify, now, request, scheme, http)),
      rejectAsTokenError,
    );
  }

  function withKey(
    token: string,
    decoded: DecodedJwt,
    at: number,
    verify: SignatureVerifier,
    now: number,
    request: Request | undefined,
    scheme: Scheme,
    http: BindingRequest | undefined,
  ): Now<AuthContext> {
    const key = sourceAt(at).keys.resolve(decoded.header);
    if (!(key instanceof Promise)) return finishSigned(token, decoded, at, verify, key, now, request, scheme, http);
    return key.then(
      (resolved) => promised(() => finishSigned(token, decoded, at, verify, resolved, now, request, scheme, http)),
      rejectAsTokenError,
    );
  }

  // a source just found: there, unless dropped since (a flood of new issuers), which is a 503 to retry
  function sourceAt(at: number): Source {
    const source = registry.get(at);
    if (source === undefined) {
      throw new TokenError("keys_unavailable", undefined, {
        cause: new Error("the issuer's key set was dropped for newer ones (maxIssuers) while in use"),
        retryAfter: 1,
      });
    }
    return source;
  }

  function finishSigned(
    token: string,
    { payload, heapBytes, signingInput, signatureBytes }: DecodedJwt,
    at: number,
    verify: SignatureVerifier,
    key: KeyObject,
    now: number,
    request: Request | undefined,
    scheme: Scheme,
    http: BindingRequest | undefined,
  ): Now<AuthContext> {
    const source = sourceAt(at);
    verifySignature(verify, signingInput, signatureBytes, key);
    checkClaims(payload, source.rules, now);
    // with getScopes, the scopes are the server's, found on every request: none read from the token
    const scopes = policy.getScopes === undefined ? parseScopes(readPath(payload, policy.scopeClaim)) : NO_SCOPES;
    const groups = policy.getGroups === undefined ? parseGroups(readPath(payload, policy.groupsClaim)) : NO_SCOPES;
    const verified: Verified = { claims: payload, scopes, groups, pool: source.userPoolId, bound: "cnf" in payload };
    cache?.set(token, payload, verified, at, source.keys.stamp(), now, heapBytes);
    return finish(token, verified, now, request, scheme, http);
  }

  // The binding (a proof, a certificate) first, as it reads only the request; then isRevoked, a
  // store round trip only for a token that is otherwise good; then the proof's replay, recorded
  // only for a request that would otherwise pass; getScopes last.
  function finish(
    token: string,
    verified: Verified,
    now: number,
    request: Request | undefined,
    scheme: Scheme,
    http: BindingRequest | undefined,
  ): Now<AuthContext> {
    // a plain bearer token where nothing binds tokens: no binding work at all
    const bound =
      scheme === "bearer" && !verified.bound && !policy.certificateBound
        ? undefined
        : checkBinding(token, verified.claims, scheme, http, policy, now);
    const revoked = policy.isRevoked?.(verified.claims);
    if (revoked instanceof Promise || (typeof revoked === "object" && revoked !== null)) {
      return Promise.resolve(revoked).then((isRevoked) => {
        if (isRevoked) throw new TokenError("revoked");
        return promised(() => unreplayed(token, verified, now, request, bound));
      }, rejectAsTokenError);
    }
    if (revoked) throw new TokenError("revoked");
    return bound === undefined
      ? withScopes(token, verified, now, request, undefined)
      : unreplayed(token, verified, now, request, bound);
  }

  // RFC 9449 §11.1: a proof is taken once; a store that cannot say fails closed (503)
  function unreplayed(
    token: string,
    verified: Verified,
    now: number,
    request: Request | undefined,
    bound: CheckedBinding | undefined,
  ): Now<AuthContext> {
    const dpop = policy.dpop;
    const binding = bound?.binding;
    if (bound?.replayKey === undefined || dpop === undefined) return withScopes(token, verified, now, request, binding);
    const recorded = recordProof(dpop.replayStore, bound.replayKey, dpop.replayTtlMs);
    if (recorded === undefined) return withScopes(token, verified, now, request, binding);
    return recorded.then(() => promised(() => withScopes(token, verified, now, request, binding)));
  }

  // getScopes may read a database: it runs on every request, after everything else passed
  function withScopes(
    token: string,
    verified: Verified,
    now: number,
    request: Request | undefined,
    binding: Binding | undefined,
  ): Now<AuthContext> {
    const { claims, scopes, groups, pool } = verified;
    const { getScopes, getGroups } = policy;
    if (getScopes === undefined && getGroups === undefined) {
      return buildAuthContext(token, claims, scopes, groups, pool, now, resource, binding);
    }
    const foundScopes = getScopes === undefined ? scopes : getScopes(claims, request);
    const foundGroups = getGroups === undefined ? groups : getGroups(claims, request);
    const build = (scopesFound: unknown, groupsFound: unknown): AuthContext =>
      buildAuthContext(
        token,
        claims,
        getScopes === undefined ? scopes : serverList(scopesFound, "getScopes", parseScopes),
        getGroups === undefined ? groups : serverList(groupsFound, "getGroups", parseGroups),
        pool,
        now,
        resource,
        binding,
      );
    if (isPending(foundScopes) || isPending(foundGroups)) {
      return Promise.all([foundScopes, foundGroups]).then(
        ([scopesFound, groupsFound]) => build(scopesFound, groupsFound),
        rejectAsTokenError,
      );
    }
    return build(foundScopes, foundGroups);
  }

  // What the verification in progress found, while someone listens on CHANNELS.verification: set
  // by verifyNow in its synchronous part, read by `observed` when the outcome is known
  let facts: Facts | undefined;

  // runs one verification and publishes its outcome; called only while someone listens
  function observed<T>(work: () => Now<T>): Now<T> {
    const started = performance.now();
    const mine: Facts = { cache: "none", algorithm: undefined };
    const done = (value: unknown, error: unknown): void => {
      if (error === undefined && value === undefined) return; // no credentials, let through: no verification
      verificationChannel.publish({
        verifier: policy.name,
        outcome: error === undefined ? "accepted" : "refused",
        reason: error === undefined ? undefined : toTokenError(error).reason,
        algorithm: mine.algorithm,
        cache: mine.cache,
        durationMs: performance.now() - started,
      } satisfies VerificationEvent);
    };
    facts = mine;
    let answer: Now<T>;
    try {
      answer = work();
    } catch (error) {
      done(undefined, error);
      throw error;
    } finally {
      facts = undefined;
    }
    if (!(answer instanceof Promise)) {
      done(answer, undefined);
      return answer;
    }
    return answer.then(
      (value) => (done(value, undefined), value),
      (error: unknown) => {
        done(undefined, error);
        throw error;
      },
    );
  }

  function authenticateNow(
    request: Request,
    authorization: string | readonly string[] | undefined,
    incoming?: IncomingRequest,
    target?: string,
  ): Now<AuthContext | undefined> {
    let http: BindingRequest | undefined;
    try {
      if (binds && incoming !== undefined) http = bindingRequest(request, incoming, target);
      if (policy.getToken === undefined) {
        // no bearer credentials (no header, or another scheme): anonymous, when that is allowed
        if (
          !policy.credentialsRequired &&
          (authorization === undefined || isOtherScheme(authorization, policy.dpop !== undefined))
        ) {
          return undefined;
        }
        return fromAuthorization(authorization, request, http);
      }
    } catch (error) {
      throw toTokenError(error);
    }
    return authenticateWithGetToken(request, http);
  }

  // the token of an Authorization header: `Bearer`, or with `dpop` also `DPoP` (only it, if required)
  function fromAuthorization(
    authorization: string | readonly string[] | undefined,
    request: Request | undefined,
    http: BindingRequest | undefined,
  ): Now<AuthContext> {
    if (policy.dpop === undefined) {
      return verifyNow(readBearer(authorization, policy.maxTokenLength), true, request, "bearer", http);
    }
    const { scheme, token } = readCredentials(authorization, policy.maxTokenLength);
    if (scheme === "bearer" && policy.dpop.required) throw new TokenError("dpop_required");
    return verifyNow(token, true, request, scheme, http);
  }

  // what a binding is checked against, read from Node's request only when the policy binds tokens
  function bindingRequest(
    request: Request,
    incoming: IncomingRequest,
    target: string | undefined,
  ): BindingRequest | undefined {
    if (policy.dpop === undefined && !policy.certificateBound) return undefined;
    return {
      method: incoming.method ?? "GET",
      path: target ?? "/",
      dpop: policy.dpop === undefined ? undefined : readHeaderValues(incoming, "dpop"),
      clientCertificate: !policy.certificateBound
        ? undefined
        : policy.clientCertificate === undefined
          ? peerCertificate(incoming.socket)
          : policy.clientCertificate(request),
    };
  }

  async function authenticateWithGetToken(
    request: Request,
    http: BindingRequest | undefined,
  ): Promise<AuthContext | undefined> {
    let token: unknown;
    try {
      token = await (policy.getToken as NonNullable<typeof policy.getToken>)(request);
    } catch (error) {
      throw toTokenError(error);
    }
    if (token === undefined || token === null || token === "") {
      if (!policy.credentialsRequired) return undefined;
      throw new TokenError("missing_token");
    }
    if (typeof token !== "string") {
      throw new TokenError("internal_error", undefined, { cause: new Error("getToken returned a non-string") });
    }
    return promised(() => verifyNow(token, false, request, "bearer", http));
  }

  const verifier: Verifier<Claims, Request> = Object.freeze({
    verify: (authorization: string | readonly string[] | undefined, http?: BindingRequest) =>
      promised(() =>
        listened()
          ? observed(() => fromAuthorization(authorization, undefined, http))
          : fromAuthorization(authorization, undefined, http),
      ),
    verifyToken: (token: string) =>
      promised(() =>
        listened()
          ? observed(() => verifyNow(token, false, undefined, "bearer", undefined))
          : verifyNow(token, false, undefined, "bearer", undefined),
      ),
    authenticate: (request: Request, authorization: string | readonly string[] | undefined) =>
      promised(() =>
        listened() ? observed(() => authenticateNow(request, authorization)) : authenticateNow(request, authorization),
      ),
    ready: (options?: ReadyOptions) =>
      readyWithin(() => Promise.all(registry.fixed().map((source) => source.keys.ready())), options),
    status: () => {
      const keySets = [...registry.fixed(), ...registry.resolved()].flatMap((source) => source.keys.status() ?? []);
      return { ready: keySets.every((keySet) => keySet.usable), keySets };
    },
  });
  return Object.freeze({
    verifier,
    // no subscriber: the verification as it is, with no closure made for the events
    authenticateNow: (
      request: Request,
      authorization: string | readonly string[] | undefined,
      incoming?: IncomingRequest,
      target?: string,
    ) =>
      listened()
        ? observed(() => authenticateNow(request, authorization, incoming, target))
        : authenticateNow(request, authorization, incoming, target),
    protectedResource: policy.protectedResource,
    challenge: (authorization: string | readonly string[] | undefined): ChallengeOptions | undefined => {
      const dpop = policy.dpop;
      if (dpop === undefined) return resourceChallenge;
      const dpopChallenge: DpopChallenge = {
        algs: dpop.algs,
        required: dpop.required,
        presented: typeof authorization === "string" && /^dpop /i.test(authorization),
        nonce: dpop.nonces?.current(),
      };
      return { ...resourceChallenge, dpop: dpopChallenge };
    },
    nonce: policy.dpop?.nonces?.current,
  });
}

/** Whether anyone listens on `CHANNELS.verification`: checked before any event work is done. */
function listened(): boolean {
  return verificationChannel.hasSubscribers;
}

/** What `observed` reports of one verification. */
interface Facts {
  cache: "hit" | "miss" | "none";
  algorithm: string | undefined;
}

/** What a verified token leaves for every request: its claims, scopes and groups, and its pool. */
interface Verified {
  readonly claims: Claims;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  readonly pool: string | undefined;
  /** It carries a `cnf` claim (RFC 7800): a binding to check on every request. */
  readonly bound: boolean;
}

/** Where a token's keys and claim rules come from: the one key source, or one user pool of several. */
interface Source {
  readonly keys: Keys;
  readonly rules: ClaimRules;
  readonly userPoolId: string | undefined;
}

function sourcesOf<Request>(policy: Policy<Request>): IssuerRegistry<Source> {
  const issuersOf = (source: Source): Iterable<string> => source.rules.issuers ?? [];
  const set = policy.issuerSet;
  if (set !== undefined) {
    // each issuer: its own key set, its iss and audience; everything else as configured for all
    const sourceOf = (entry: IssuerPolicy): Source => ({
      keys: keysFor(entry.keySource),
      rules: { ...policy, issuers: new Set([entry.issuer]), audiences: entry.audiences },
      userPoolId: undefined,
    });
    const resolve = set.resolve;
    return new IssuerRegistry(
      set.entries.map(sourceOf),
      issuersOf,
      resolve === undefined
        ? undefined
        : (iss) => {
            const entry = resolve(iss);
            return entry instanceof Promise
              ? entry.then((found) => (found === undefined ? undefined : sourceOf(found)))
              : entry === undefined
                ? undefined
                : sourceOf(entry);
          },
      set.maxResolved,
    );
  }
  if (policy.pools === undefined) {
    const only = { keys: keysFor(policy.keySource as KeySource), rules: policy, userPoolId: policy.userPoolId };
    return new IssuerRegistry([only], issuersOf, undefined, 1);
  }
  const pools = policy.pools.map((pool) => ({
    keys: keysFor(pool.keySource),
    // the pool's issuers, client ids and token kind; everything else as configured for all
    rules: { ...policy, issuers: pool.issuers, clientIds: pool.clientIds, tokenUse: pool.tokenUse },
    userPoolId: pool.userPoolId,
  }));
  return new IssuerRegistry(pools, issuersOf, undefined, 1);
}

const NO_SCOPES: readonly string[] = Object.freeze([]);

// what getScopes or getGroups found: a list of strings or a delimited string, or a 980 that says what came
function serverList(value: unknown, hook: string, parse: (claim: unknown) => readonly string[]): readonly string[] {
  if (typeof value === "string" || (Array.isArray(value) && value.every((member) => typeof member === "string"))) {
    return parse(value);
  }
  const got = Array.isArray(value) ? "a list holding something other than strings" : typeof value;
  throw new TokenError("internal_error", undefined, {
    cause: new Error(`${hook} returned ${got}, not a list or a delimited string`),
  });
}

function isPending(value: unknown): boolean {
  return value instanceof Promise || isThenable(value);
}

function rejectAsTokenError(error: unknown): Promise<never> {
  return Promise.reject(toTokenError(error));
}

// the public methods' shape: always a promise, rejecting only with a TokenError
function promised<T>(work: () => Now<T>): Promise<T> {
  try {
    const answer = work();
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  } catch (error) {
    return rejectAsTokenError(error);
  }
}

function keysFor(source: KeySource): Keys {
  const atHand = { stamp: () => 0, ready: () => Promise.resolve(), status: () => undefined };
  if (source.kind === "secret") return { ...atHand, resolve: () => source.key };
  if (source.kind === "static") {
    const keys = new StaticKeys(source.keys);
    return { ...atHand, resolve: (header) => keys.resolve(header) };
  }
  const keys = new JwksKeys(source);
  return {
    resolve: (header) => keys.resolve(header),
    stamp: () => keys.stamp(),
    ready: () => keys.ready(),
    status: () => keys.status(),
  };
}

const FIRST_RETRY_MS = 100;
const LONGEST_RETRY_MS = 5_000;

// ready(), tried again with back-off (100 ms, doubling, at most 5 s) until `waitMs` has passed
async function readyWithin(once: () => Promise<unknown>, options: ReadyOptions | undefined): Promise<void> {
  const waitMs = options?.waitMs ?? 0;
  if (typeof waitMs !== "number" || !Number.isFinite(waitMs) || waitMs < 0) {
    throw new ConfigError(`\`ready({ waitMs })\` takes a number of ms, 0 or more; got ${JSON.stringify(waitMs)}.`);
  }
  const deadline = performance.now() + waitMs;
  for (let delay = FIRST_RETRY_MS; ; delay = Math.min(delay * 2, LONGEST_RETRY_MS)) {
    try {
      await once();
      return;
    } catch (error) {
      const left = deadline - performance.now();
      if (left <= 0) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    }
  }
}
