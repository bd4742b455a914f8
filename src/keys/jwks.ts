import { createPublicKey, type KeyObject } from "node:crypto";
import jwksRsa from "jwks-rsa";
import { describeFailure, KeySetError, quote, TokenError } from "../errors/errors.js";
import { displayUrl } from "../errors/text.js";
import type { JwtHeader } from "../types.js";
import { publishKeySet } from "../events.js";
import { fetchJson, type FetchLimits } from "./fetch.js";
import { checkedKey, findKey, isStrong, type VerifyingKey } from "./public.js";

/** How the key set is fetched and cached; every field has a default. */
export interface JwksFetchOptions {
  /** Deadline for one download of the key set, in ms. Default 5000. */
  timeoutMs?: number | undefined;
  /** How long a fetched key set is used before it is fetched again, in ms. Default 600000 (10 min). */
  cacheMaxAgeMs?: number | undefined;
  /** How long an expired key set stays in use while the key server fails, in ms. Default 3600000 (1 h). */
  staleIfErrorMs?: number | undefined;
  /**
   * How many downloads a minute tokens with an unknown `kid` may cause (requests that arrive while
   * one is in flight wait for it and cost nothing). Default 10: a key rotated during a flood of
   * unknown kids is accepted within 6 s.
   */
  refetchesPerMinute?: number | undefined;
  /** The largest key set read, in bytes. Default 1048576 (1 MiB). */
  maxResponseBytes?: number | undefined;
  /**
   * After a failed download, how long no new one is tried, in ms. Default 1000. In between, requests
   * use the stale key set or answer 503 at once, so a dead key server costs neither side much.
   */
  retryAfterFailureMs?: number | undefined;
}

/**
 * The key-set settings once checked. With `discoveryIssuer`, `uri` is the issuer's discovery
 * document, read before every download of the key set for its `jwks_uri`.
 */
export type JwksSettings = {
  readonly uri: string;
  readonly discoveryIssuer?: string | undefined;
  /** `allowInsecureHttp`: a discovered `http` key set off loopback is accepted. */
  readonly allowInsecureHttp: boolean;
} & {
  readonly [K in keyof JwksFetchOptions]-?: number;
};

/**
 * A remote JWKS behind our own cache: keys become `KeyObject`s once per download, one download at a
 * time. A set past its age is refreshed in the background while it serves (within
 * `staleIfErrorMs`), so a slow key server never stalls a token whose key is known. An unknown `kid`
 * waits for the download in flight, or starts one if the refetch budget allows: a token bucket of
 * `refetchesPerMinute` downloads, refilled evenly, so a flood of unknown kids costs a bounded number
 * of downloads and still lets a really rotated key in within 60 / `refetchesPerMinute` seconds.
 */
export class JwksKeys {
  readonly #settings: JwksSettings;
  readonly #client: jwksRsa.JwksClient;
  #keys: readonly VerifyingKey[] = [];
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #failedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #refetchBudget: number;
  #budgetAt = performance.now();
  #generation = 0;
  #fingerprint = "";
  #lastFailure: unknown;
  // a download failed while older keys were held, and none has succeeded since
  #servingStale = false;
  #jwksUri: string | undefined;

  constructor(settings: JwksSettings) {
    this.#settings = settings;
    this.#refetchBudget = settings.refetchesPerMinute;
    this.#client = new jwksRsa.JwksClient({
      jwksUri: settings.uri,
      cache: false, // ours, below: jwks-rsa's cache keeps PEM strings and cannot serve stale keys
      rateLimit: false,
      fetcher: async () => {
        // one deadline for the whole download: discovery document (and its RFC 8414 fallback) and key set
        const limits: FetchLimits = {
          deadline: performance.now() + settings.timeoutMs,
          timeoutMs: settings.timeoutMs,
          maxResponseBytes: settings.maxResponseBytes,
        };
        return verifyingKeysOnly(await fetchJson(await this.#locate(limits), limits));
      },
    });
  }

  // Where the key set is: the configured URL, or the jwks_uri of the issuer's discovery document,
  // read again with every download so that the key set follows it
  async #locate(limits: FetchLimits): Promise<string> {
    const issuer = this.#settings.discoveryIssuer;
    if (issuer === undefined) return this.#settings.uri;
    let document: unknown;
    try {
      document = await fetchJson(this.#settings.uri, limits);
    } catch (error) {
      // RFC 8414 servers that publish no OpenID configuration
      if ((error as { status?: unknown }).status !== 404) throw error;
      document = await fetchJson(authorizationServerMetadataUrl(issuer), limits);
    }
    const jwksUri = jwksUriOf(document, issuer, this.#settings.allowInsecureHttp);
    if (this.#jwksUri !== undefined && jwksUri !== this.#jwksUri) {
      publishKeySet(() => ({ type: "discovery-changed", uri: displayUrl(issuer), jwksUri: displayUrl(jwksUri) }));
    }
    this.#jwksUri = jwksUri;
    return jwksUri;
  }

  /**
   * Names the key set a verification was made under: it changes when the keys change, so that no
   * cached verification outlives a change of keys. Past the set's age the same set still serves
   * (stale, while a download is tried): a verification cached under it is as good as one made
   * again with it, so its stamp holds until the set changes or the stale window ends (-1).
   */
  stamp(): number {
    const age = performance.now() - this.#fetchedAt;
    if (age < this.#settings.cacheMaxAgeMs) return this.#generation;
    if (!this.#servesStale(age)) return -1;
    this.#refreshInBackground(); // hits alone must still lead to the set being read again
    return this.#generation;
  }

  /**
   * The key that verifies a token with this header: at once when the set is within its age and
   * holds the key (the common case, with no promise to wait for), else once the set is usable.
   */
  resolve(header: JwtHeader): KeyObject | Promise<KeyObject> {
    if (performance.now() - this.#fetchedAt < this.#settings.cacheMaxAgeMs) {
      const jwk = findKey(this.#keys, header);
      if (jwk !== undefined) return checkedKey(jwk, header);
    }
    return this.#resolveLater(header);
  }

  async #resolveLater(header: JwtHeader): Promise<KeyObject> {
    await this.#ensureUsable();
    let jwk = findKey(this.#keys, header);
    if (jwk === undefined) {
      if (this.#inflight === undefined) {
        // While the key server cannot be reached, nobody can tell whether this kid exists: a 503,
        // never a 401 (catalogue: a key outage is 980). The budget pays for downloads only.
        if (this.#lastDownloadFailed() && (this.#failedRecently() || !this.#takeRefetch())) {
          throw this.#unavailable();
        }
        if (!this.#lastDownloadFailed() && !this.#takeRefetch()) {
          publishKeySet(() => ({ type: "refetch-budget-spent", uri: displayUrl(this.#settings.uri) }));
          throw unknownKey(header, "the refetch budget is spent");
        }
      }
      await this.#refreshOrThrow(); // joins the download in flight, if there is one
      jwk = findKey(this.#keys, header);
    }
    // only a kid missing from a set just downloaded successfully is unknown
    if (jwk === undefined) throw unknownKey(header, "the key set holds no such key");
    return checkedKey(jwk, header);
  }

  // A set within its age serves; past it, within staleIfErrorMs, it serves while a refresh runs in
  // the background; past that (or with no set yet) the request waits for a download.
  async #ensureUsable(): Promise<void> {
    const age = performance.now() - this.#fetchedAt;
    if (age < this.#settings.cacheMaxAgeMs) return;
    if (!this.#servesStale(age)) return this.#refreshOrThrow();
    this.#refreshInBackground();
  }

  #servesStale(age: number): boolean {
    return this.#keys.length > 0 && age < this.#settings.cacheMaxAgeMs + this.#settings.staleIfErrorMs;
  }

  #refreshInBackground(): void {
    if (this.#inflight === undefined && !this.#failedRecently()) {
      this.#refreshOrThrow().catch(() => undefined); // its failure is kept in #failedAt; the stale set serves on
    }
  }

  #lastDownloadFailed(): boolean {
    return this.#failedAt > this.#fetchedAt;
  }

  // "the last download failed", chaining that download's own error (connection refused, HTTP 500)
  #unavailable(): TokenError {
    return new TokenError("keys_unavailable", undefined, {
      cause: new Error("the last key-set download failed", { cause: this.#lastFailure }),
      retryAfter: this.#retryAfter(),
    });
  }

  // A token bucket: refetchesPerMinute downloads at most at once, refilled one every 60 s / that.
  #takeRefetch(): boolean {
    const { refetchesPerMinute } = this.#settings;
    const now = performance.now();
    const refill = ((now - this.#budgetAt) * refetchesPerMinute) / 60_000;
    this.#refetchBudget = Math.min(refetchesPerMinute, this.#refetchBudget + refill);
    this.#budgetAt = now;
    if (this.#refetchBudget < 1) return false;
    this.#refetchBudget -= 1;
    return true;
  }

  #failedRecently(): boolean {
    return performance.now() - this.#failedAt < this.#settings.retryAfterFailureMs;
  }

  async #refreshOrThrow(): Promise<void> {
    if (this.#inflight === undefined) {
      if (this.#failedRecently()) throw this.#unavailable();
      this.#inflight = this.#download().finally(() => {
        this.#inflight = undefined;
      });
    }
    await this.#inflight;
  }

  async #download(): Promise<void> {
    const uri = displayUrl(this.#settings.uri);
    publishKeySet(() => ({ type: "download-started", uri }));
    try {
      const signingKeys = await this.#client.getSigningKeys();
      const keys = signingKeys.flatMap((signingKey): VerifyingKey[] => {
        const key = createPublicKey(signingKey.getPublicKey());
        return isStrong(key) ? [{ kid: signingKey.kid || undefined, alg: signingKey.alg || undefined, key }] : [];
      });
      if (keys.length === 0) throw new Error("the key set holds no usable signing key");
      const fingerprint = keys
        .map(({ kid, alg, key }) => `${kid}:${alg}:${key.export({ format: "der", type: "spki" }).toString("base64")}`)
        .join("|");
      if (fingerprint !== this.#fingerprint) this.#generation += 1;
      this.#fingerprint = fingerprint;
      const before = this.#keys;
      this.#keys = keys;
      this.#fetchedAt = performance.now();
      publishKeySet(() => ({ type: "download-succeeded", uri, ...kidChanges(before, keys) }));
      if (this.#servingStale) {
        this.#servingStale = false;
        publishKeySet(() => ({ type: "recovered", uri }));
        warn(
          `bearer-gate: the key set at ${uri} was downloaded again; its keys are fresh.`,
          "BEARER_GATE_KEYS_RECOVERED",
        );
      }
    } catch (cause) {
      this.#failedAt = performance.now();
      this.#lastFailure = cause;
      const why = describeFailure(cause);
      publishKeySet(() => ({ type: "download-failed", uri, cause: why }));
      // older keys at hand: they serve, stale, while downloads fail; said once per outage
      const age = performance.now() - this.#fetchedAt;
      if (!this.#servingStale && age >= this.#settings.cacheMaxAgeMs && this.#servesStale(age)) {
        this.#servingStale = true;
        publishKeySet(() => ({ type: "serving-stale", uri, cause: why }));
        const left = Math.round(
          (this.#fetchedAt + this.#settings.cacheMaxAgeMs + this.#settings.staleIfErrorMs - performance.now()) / 60_000,
        );
        warn(
          `bearer-gate: the key set at ${uri} could not be downloaded (${why}); the keys downloaded before serve, ` +
            `stale, for ${left} more minute(s) at most, then requests answer 503.`,
          "BEARER_GATE_KEYS_STALE",
        );
      }
      throw new TokenError("keys_unavailable", undefined, { cause, retryAfter: this.#retryAfter() });
    }
  }

  // whole seconds until a download may be tried again; at least 1
  #retryAfter(): number {
    const wait = this.#failedAt + this.#settings.retryAfterFailureMs - performance.now();
    return Math.max(1, Math.ceil(wait / 1000));
  }

  /** What the key set is doing now, for a readiness probe or a dashboard (see `KeySetStatus`). */
  status(): KeySetStatus {
    const now = performance.now();
    const wall = Date.now();
    const at = (mark: number): Date | undefined => (Number.isFinite(mark) ? new Date(wall - (now - mark)) : undefined);
    const age = now - this.#fetchedAt;
    const failed = this.#lastDownloadFailed();
    const retryAt = this.#failedAt + this.#settings.retryAfterFailureMs;
    return {
      uri: displayUrl(this.#settings.uri),
      downloadedAt: at(this.#fetchedAt),
      ageMs: Number.isFinite(age) ? Math.round(age) : undefined,
      usable: age < this.#settings.cacheMaxAgeMs || this.#servesStale(age),
      stale: age >= this.#settings.cacheMaxAgeMs && this.#servesStale(age),
      kids: this.#keys.map((entry) => entry.kid ?? null),
      lastError: failed ? describeFailure(this.#lastFailure) : undefined,
      lastErrorAt: failed ? at(this.#failedAt) : undefined,
      nextAttemptAt: failed && retryAt > now ? at(retryAt) : undefined,
    };
  }

  /**
   * Resolves once a usable key set is held: at once if one is, else after a download (which it
   * starts, or joins). Rejects with a `KeySetError` naming the URL and the cause; within
   * `retryAfterFailureMs` of a failed download, with that download's cause and no new one.
   */
  async ready(): Promise<void> {
    if (performance.now() - this.#fetchedAt < this.#settings.cacheMaxAgeMs) return;
    try {
      await this.#refreshOrThrow();
    } catch (error) {
      const cause = error instanceof TokenError && error.cause !== undefined ? error.cause : error;
      throw new KeySetError(this.#settings.uri, cause);
    }
  }
}

/** One key set, as `status()` tells it. Times are wall-clock `Date`s; `undefined` when not yet. */
export interface KeySetStatus {
  /** Where it is downloaded from (the discovery document's URL with `issuerUrl`), without credentials. */
  readonly uri: string;
  /** When the key set held now was downloaded. */
  readonly downloadedAt: Date | undefined;
  /** How old it is, in ms. */
  readonly ageMs: number | undefined;
  /** Whether tokens can be verified with it now (fresh, or stale within `staleIfErrorMs`). */
  readonly usable: boolean;
  /** Whether it is past `cacheMaxAgeMs` and served only because a download failed or runs. */
  readonly stale: boolean;
  /** The kids it holds (`null` for a key without one). */
  readonly kids: readonly (string | null)[];
  /** When the last download failed and it is not yet followed by a good one: its cause, in words. */
  readonly lastError: string | undefined;
  readonly lastErrorAt: Date | undefined;
  /** After a failure: when the next download may be tried. */
  readonly nextAttemptAt: Date | undefined;
}

/** OpenID Connect Discovery 1.0 §4: the issuer, without a trailing slash, + /.well-known/openid-configuration. */
export function openIdConfigurationUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
}

// RFC 8414 §3: the well-known segment goes between the host and the issuer's path
function authorizationServerMetadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

// The document must name the configured issuer exactly (OpenID Connect Discovery §4.3, RFC 8414
// §3.3), or its keys could be another issuer's; its jwks_uri must be an https URL (http only on
// loopback and from an http issuer, or with allowInsecureHttp): anyone on the path of a plain
// http download could serve their own key and mint any token.
export function jwksUriOf(document: unknown, issuer: string, allowInsecureHttp: boolean): string {
  if (document === null || typeof document !== "object") throw new Error("the discovery document is not a JSON object");
  const { issuer: named, jwks_uri: uri } = document as { issuer?: unknown; jwks_uri?: unknown };
  if (named !== issuer) {
    throw new Error(`the discovery document names the issuer ${quote(named)}, not ${quote(issuer)}`);
  }
  if (typeof uri !== "string" || !URL.canParse(uri) || !/^https?:$/.test(new URL(uri).protocol)) {
    throw new Error(`the discovery document's jwks_uri ${quote(uri)} is not an http(s) URL`);
  }
  const downgrade = new URL(issuer).protocol === "https:" || !isLoopback(new URL(uri));
  if (new URL(uri).protocol === "http:" && downgrade && !allowInsecureHttp) {
    throw new Error(
      `the discovery document's jwks_uri ${displayUrl(uri)} is plain http: keys are downloaded over https only ` +
        "(set allowInsecureHttp to true for a private network you trust)",
    );
  }
  return uri;
}

/** Whether a URL's host is this machine (`localhost`, 127.0.0.0/8, `::1`): plain http is safe there. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

// what one download changed: the kids added and the kids gone
function kidChanges(
  before: readonly VerifyingKey[],
  after: readonly VerifyingKey[],
): { added: (string | null)[]; removed: (string | null)[] } {
  const kids = (keys: readonly VerifyingKey[]) => keys.map((entry) => entry.kid ?? null);
  const [old, now] = [kids(before), kids(after)];
  return { added: now.filter((kid) => !old.includes(kid)), removed: old.filter((kid) => !now.includes(kid)) };
}

// a person reads these: once per outage, and once when it ends (no logger of our own)
function warn(message: string, code: string): void {
  try {
    process.emitWarning(message, { code });
  } catch {
    // a warning listener that throws must not reach a request
  }
}

function unknownKey(header: JwtHeader, why: string): TokenError {
  return new TokenError("unknown_key", undefined, {
    cause: new Error(`no usable key for kid ${quote(header.kid)}: ${why}`),
  });
}

// RFC 7517 §4.3: a key whose key_ops does not list "verify" is not for verifying signatures
function verifyingKeysOnly(body: unknown): { keys: jwksRsa.JSONWebKey[] } {
  if (body === null || typeof body !== "object" || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new Error("the key set is not a JSON object with a keys list");
  }
  const keys = (body as { keys: unknown[] }).keys.filter((jwk): jwk is jwksRsa.JSONWebKey => {
    if (jwk === null || typeof jwk !== "object") return false;
    const ops = (jwk as { key_ops?: unknown }).key_ops;
    return ops === undefined || (Array.isArray(ops) && ops.includes("verify"));
  });
  return { keys };
}
