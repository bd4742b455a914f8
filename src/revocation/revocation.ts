import { fn, MAX_CLOCK_TOLERANCE, nonEmpty, number, plainObject, readClock, rejectUnknown } from "../options/check.js";
import { decodeJwt } from "../token/decode.js";
import { ConfigError, TokenError } from "../errors/errors.js";
import { observe } from "../errors/hooks.js";
import type { RevocationLookup, RevocationStore } from "./store.js";
import type { Claims } from "../types.js";

/** Options of `createRevocationList`. */
export interface RevocationListOptions {
  /** Where entries live: `createMemoryStore()` for one process, `createRedisStore(client)` for several. */
  store: RevocationStore;
  /** How long a request waits for the store, in milliseconds. Default 250. */
  timeoutMs?: number | undefined;
  /**
   * When the store fails or is slower than `timeoutMs`: `"deny"` (default) answers 980/503 with
   * reason `revocation_unavailable`; `"allow"` lets the token through. Either way `onError` hears of it.
   */
  onStoreError?: "deny" | "allow" | undefined;
  /** Called for every check the store could not answer; required with `onStoreError: "allow"`. */
  onError?: ((error: TokenError) => void) | ((error: TokenError) => Promise<void>) | undefined;
  /**
   * The longest an access token of yours lives, in seconds: how long a token family (`origin_jti`)
   * and a subject's cutoff stay listed. Default 86400, Cognito's longest access-token validity.
   */
  maxTokenLifetime?: number | undefined;
  /** The claim `revokeSubject` names. Default `"sub"`; a number claim (like `uid`) is compared as text. */
  subjectClaim?: string | undefined;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: (() => number) | undefined;
}

/** A shared denylist: pass its `isRevoked` to `requireToken` / `createVerifier` (its functions need no `this`). */
export interface RevocationList {
  /**
   * Refuses a token (a JWT, or its claims, such as `req.auth.claims`) until its `exp` plus 300 s (the
   * largest `clockTolerance` a verifier may have), and its whole `origin_jti` family (every access
   * token minted from one Cognito refresh token) for `maxTokenLifetime`. Rejects with a `TokenError`
   * `revocation_unavailable` (980/503) when the store fails: hand it to `next(error)`.
   */
  readonly revoke: (token: string | Claims) => Promise<void>;
  /** "Log out everywhere": refuses `subject`'s tokens issued before `before` (default now); rejects like `revoke`. */
  readonly revokeSubject: (subject: string | number, options?: { before?: Date | undefined }) => Promise<void>;
  /** The `isRevoked` hook: one store round trip; rejects with `revocation_unavailable` when the store fails. */
  readonly isRevoked: (claims: Claims) => Promise<boolean>;
}

const TOLERANCE_MS = MAX_CLOCK_TOLERANCE * 1000;
// Retry-After of a 503 when the store cannot be read: every request asks it again, so a client may
// try again at once; a second keeps a fleet of clients from hammering it
const STORE_RETRY_AFTER = 1;
const KNOWN_OPTIONS = ["store", "timeoutMs", "onStoreError", "onError", "maxTokenLifetime", "subjectClaim", "clock"];

/**
 * Checks the options (a bad one throws a `ConfigError` now) and returns a revocation list.
 * @example
 * const revocations = createRevocationList({ store: createRedisStore(redis) });
 * app.use(requireToken({ cognito: { userPoolId, clientId }, isRevoked: revocations.isRevoked }));
 */
export function createRevocationList(options: RevocationListOptions): RevocationList {
  rejectUnknown(plainObject(options, "revocation list options"), KNOWN_OPTIONS, "revocation list");
  const store = checkStore(options.store);
  const timeoutMs = number(options.timeoutMs, "timeoutMs", 250, { min: 1, integer: true });
  const onStoreError = options.onStoreError ?? "deny";
  if (onStoreError !== "deny" && onStoreError !== "allow") {
    throw new ConfigError('`onStoreError` must be "deny" or "allow".');
  }
  const onError = fn(options.onError, "onError");
  if (onStoreError === "allow" && onError === undefined) {
    throw new ConfigError('`onStoreError: "allow"` needs an `onError` hook, so that an outage is seen.');
  }
  const lifetimeMs = 1000 * number(options.maxTokenLifetime, "maxTokenLifetime", 86_400, { min: 1 });
  const subjectClaim = nonEmpty(options.subjectClaim ?? "sub", "subjectClaim");
  const clock = fn(options.clock, "clock") ?? Date.now;

  async function revoke(token: string | Claims): Promise<void> {
    const claims = typeof token === "string" ? claimsOf(token) : token;
    const jti = text(claims?.jti),
      family = text(claims?.["origin_jti"]);
    if (jti === undefined && family === undefined) {
      throw new TypeError("bearer-gate: revoke() needs a token with a jti or origin_jti claim; see revokeSubject().");
    }
    const exp = claims?.exp;
    // kept while any verifier could still accept the token: its exp plus the largest tolerance a
    // verifier may have, so no instance's clockTolerance (each may differ) reopens a window
    const untilExp =
      (typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 - readClock(clock) : lifetimeMs) + TOLERANCE_MS;
    const writes: Promise<void>[] = [];
    if (jti !== undefined && untilExp > 0) writes.push(store.revokeId(jti, Math.ceil(untilExp)));
    // a sibling minted before the revocation may outlive this token: keep the family for a lifetime
    if (family !== undefined) {
      writes.push(store.revokeId(family, Math.ceil(Math.max(untilExp, lifetimeMs + TOLERANCE_MS))));
    }
    await written(Promise.all(writes));
  }

  async function revokeSubject(
    subject: string | number,
    { before }: { before?: Date | undefined } = {},
  ): Promise<void> {
    const name = text(subject);
    if (name === undefined) throw new TypeError("bearer-gate: revokeSubject() needs a subject.");
    if (before !== undefined && !(before instanceof Date && Number.isFinite(before.getTime()))) {
      throw new TypeError("bearer-gate: revokeSubject()'s `before` must be a valid Date.");
    }
    const now = readClock(clock);
    const cutoffMs = before?.getTime() ?? now;
    // tokens issued before the cutoff are all expired a lifetime (and any tolerance) after it
    const ttlMs = Math.ceil(cutoffMs + lifetimeMs + TOLERANCE_MS - now);
    if (ttlMs > 0) await written(store.revokeSubject(name, cutoffMs / 1000, ttlMs));
  }

  async function isRevoked(claims: Claims): Promise<boolean> {
    const ids = [text(claims.jti), text(claims["origin_jti"])].filter((id) => id !== undefined);
    const subject = text(claims[subjectClaim]);
    if (ids.length === 0 && subject === undefined) return false;
    let found: RevocationLookup;
    try {
      found = await answerWithin(store.lookup(ids, subject));
    } catch (cause) {
      const error = new TokenError("revocation_unavailable", undefined, { cause, retryAfter: STORE_RETRY_AFTER });
      report(error);
      if (onStoreError === "allow") return false;
      throw error;
    }
    if (found.listed) return true;
    if (found.cutoff === undefined) return false;
    // without `iat` the token cannot show it came after the cutoff
    return typeof claims.iat !== "number" || claims.iat < found.cutoff;
  }

  function answerWithin<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the revocation store did not answer in ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  // a write the store could not make is the catalogue's 980, so authErrorHandler can answer it
  async function written(work: Promise<unknown>): Promise<void> {
    try {
      await answerWithin(work);
    } catch (cause) {
      throw new TokenError("revocation_unavailable", undefined, { cause, retryAfter: STORE_RETRY_AFTER });
    }
  }

  function report(error: TokenError): void {
    if (onError !== undefined) observe("onError", onError, error);
  }

  return Object.freeze({ revoke, revokeSubject, isRevoked });
}

function checkStore(store: unknown): RevocationStore {
  const methods = ["revokeId", "revokeSubject", "lookup"] as const;
  if (
    store === null ||
    typeof store !== "object" ||
    methods.some((name) => typeof Reflect.get(store, name) !== "function")
  ) {
    throw new ConfigError("`store` must be a revocation store: createMemoryStore() or createRedisStore(client).");
  }
  return store as RevocationStore;
}

function claimsOf(token: string): Partial<Claims> {
  try {
    return decodeJwt(token).payload; // not verified: revoking a token never lets anything in
  } catch {
    throw new TypeError("bearer-gate: revoke() was given a string that is not a JWT.");
  }
}

function text(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  return typeof value === "number" && Number.isFinite(value) ? String(value) : undefined;
}
