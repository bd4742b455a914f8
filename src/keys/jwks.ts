import { createPublicKey, type KeyObject } from "node:crypto";
import jwksRsa from "jwks-rsa";
import { TokenError } from "../errors.js";
import type { JwtHeader } from "../types.js";
import { fetchJson } from "./fetch.js";

/** How the key set is fetched and cached; every field has a default. */
export interface JwksFetchOptions {
  /** Deadline for one download of the key set, in ms. Default 5000. */
  timeoutMs?: number | undefined;
  /** How long a fetched key set is used before it is fetched again, in ms. Default 600000 (10 min). */
  cacheMaxAgeMs?: number | undefined;
  /** How long an expired key set stays in use while the key server fails, in ms. Default 3600000 (1 h). */
  staleIfErrorMs?: number | undefined;
  /** How many fetches a minute a token with an unknown `kid` may cause. Default 10. */
  refetchesPerMinute?: number | undefined;
  /** The largest key set read, in bytes. Default 1048576 (1 MiB). */
  maxResponseBytes?: number | undefined;
  /**
   * After a failed download, how long no new one is tried, in ms. Default 1000. In between, requests
   * use the stale key set or answer 503 at once, so a dead key server costs neither side much.
   */
  retryAfterFailureMs?: number | undefined;
}

/** The key-set settings once checked. */
export type JwksSettings = { readonly uri: string } & { readonly [K in keyof JwksFetchOptions]-?: number };

interface Jwk {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

const MIN_RSA_BITS = 2048;
const EC_CURVES: Readonly<Record<string, string>> = { ES256: "prime256v1", ES384: "secp384r1", ES512: "secp521r1" };

/**
 * A remote JWKS behind our own cache: keys become `KeyObject`s once per download, one download at a
 * time, unknown `kid`s refetch at a bounded rate, and an expired set stays in use while the key
 * server fails (stale-if-error). Known keys never wait on a refetch caused by an unknown one.
 */
export class JwksKeys {
  readonly #settings: JwksSettings;
  readonly #client: jwksRsa.JwksClient;
  #keys: readonly Jwk[] = [];
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #failedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #refetches: number[] = [];
  #generation = 0;
  #fingerprint = "";

  constructor(settings: JwksSettings) {
    this.#settings = settings;
    const limits = { timeoutMs: settings.timeoutMs, maxResponseBytes: settings.maxResponseBytes };
    this.#client = new jwksRsa.JwksClient({
      jwksUri: settings.uri,
      cache: false, // ours, below: jwks-rsa's cache keeps PEM strings and cannot serve stale keys
      rateLimit: false,
      fetcher: (uri) => fetchJson(uri, limits) as Promise<{ keys: jwksRsa.JSONWebKey[] }>,
    });
  }

  /**
   * Names the key set a verification was made under: it changes when the keys change, and is -1
   * while the set is past its age, so that no cached verification outlives a change of keys.
   */
  stamp(): number {
    return performance.now() - this.#fetchedAt < this.#settings.cacheMaxAgeMs ? this.#generation : -1;
  }

  /** The key that verifies a token with this header. */
  async resolve(header: JwtHeader): Promise<KeyObject> {
    await this.#ensureFresh();
    let jwk = this.#find(header);
    if (jwk === undefined && this.#mayRefetch()) {
      await this.#refreshOrThrow();
      jwk = this.#find(header);
    }
    if (jwk === undefined) {
      throw new TokenError("unknown_key", undefined, {
        cause: new Error(`no usable key for kid ${String(header.kid)}`),
      });
    }
    if (!fits(jwk, header.alg)) {
      throw new TokenError("algorithm_not_allowed", undefined, {
        cause: new Error(`key ${String(jwk.kid)} cannot verify ${header.alg}`),
      });
    }
    return jwk.key;
  }

  async #ensureFresh(): Promise<void> {
    const age = performance.now() - this.#fetchedAt;
    if (age < this.#settings.cacheMaxAgeMs) return;
    const usableStale = this.#keys.length > 0 && age < this.#settings.cacheMaxAgeMs + this.#settings.staleIfErrorMs;
    if (usableStale && performance.now() - this.#failedAt < this.#settings.retryAfterFailureMs) return;
    try {
      await this.#refreshOrThrow();
    } catch (error) {
      if (!usableStale) throw error;
    }
  }

  // An unknown kid may mean the keys rotated; a bounded number of those a minute refetch.
  #mayRefetch(): boolean {
    const now = performance.now();
    this.#refetches = this.#refetches.filter((at) => now - at < 60_000);
    if (this.#refetches.length >= this.#settings.refetchesPerMinute) return false;
    this.#refetches.push(now);
    return true;
  }

  async #refreshOrThrow(): Promise<void> {
    if (this.#inflight === undefined) {
      if (performance.now() - this.#failedAt < this.#settings.retryAfterFailureMs) {
        throw new TokenError("keys_unavailable", undefined, { cause: new Error("the last key-set download failed") });
      }
      this.#inflight = this.#download().finally(() => {
        this.#inflight = undefined;
      });
    }
    await this.#inflight;
  }

  async #download(): Promise<void> {
    try {
      const signingKeys = await this.#client.getSigningKeys();
      const keys = signingKeys.flatMap((signingKey): Jwk[] => {
        const key = createPublicKey(signingKey.getPublicKey());
        const bits = key.asymmetricKeyDetails?.modulusLength;
        if (bits !== undefined && bits < MIN_RSA_BITS) return []; // never verify with a weak RSA key
        return [{ kid: signingKey.kid || undefined, alg: signingKey.alg || undefined, key }];
      });
      if (keys.length === 0) throw new Error("the key set holds no usable signing key");
      const fingerprint = keys
        .map(({ kid, alg, key }) => `${kid}:${alg}:${key.export({ format: "der", type: "spki" }).toString("base64")}`)
        .join("|");
      if (fingerprint !== this.#fingerprint) this.#generation += 1;
      this.#fingerprint = fingerprint;
      this.#keys = keys;
      this.#fetchedAt = performance.now();
    } catch (cause) {
      this.#failedAt = performance.now();
      throw new TokenError("keys_unavailable", undefined, { cause });
    }
  }

  #find(header: JwtHeader): Jwk | undefined {
    if (header.kid !== undefined) return this.#keys.find((jwk) => jwk.kid === header.kid);
    // no kid: only a key set with exactly one key that fits leaves no doubt which key was meant
    const candidates = this.#keys.filter((jwk) => fits(jwk, header.alg));
    return candidates.length === 1 ? candidates[0] : undefined;
  }
}

function fits(jwk: Jwk, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  const type = jwk.key.asymmetricKeyType;
  if (alg.startsWith("RS")) return type === "rsa";
  if (alg.startsWith("PS")) return type === "rsa" || type === "rsa-pss";
  if (alg.startsWith("ES")) return type === "ec" && jwk.key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg];
  return false;
}
