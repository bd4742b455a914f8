import { ConfigError } from "../errors/errors.js";
import { bool, number, plainObject, rejectUnknown } from "../options/check.js";
import { PUBLIC_KEY_ALGORITHMS, signatureVerifiers } from "../token/signature.js";
import { createNonces, type Nonces } from "./nonce.js";
import type { ProofRules } from "./proof.js";
import { createMemoryReplayStore, type ReplayStore } from "./replay.js";

/** The `dpop` option: sender-constrained tokens by DPoP proofs (RFC 9449). */
export interface DpopOptions {
  /**
   * The API's public origin as clients call it, `https://api.example.com` (scheme, host, port): a
   * proof's `htu` must be it plus the request's path. Required: never taken from `Host` or
   * `X-Forwarded-*`, which a client or a proxy may set to anything.
   */
  origin: string;
  /**
   * `true`: only `Authorization: DPoP` with a proof is accepted. Default `false`: bearer tokens are
   * accepted too, but a DPoP-bound one (with `cnf.jkt`) never with the `Bearer` scheme.
   */
  required?: boolean | undefined;
  /** The proofs' algorithms, asymmetric only; default `["ES256", "EdDSA", "Ed25519", "RS256", "PS256"]` (`Ed25519` is RFC 9864's name for EdDSA on Ed25519, which newer clients send). */
  algorithms?: readonly string[] | undefined;
  /** How old a proof's `iat` may be, in seconds (default 60, at most 300); the clock tolerance adds. */
  maxAgeSeconds?: number | undefined;
  /**
   * Remembers proofs' `jti`s, so each proof is taken once. Default: a store in this process's
   * memory (`createMemoryReplayStore()`); several instances need one they share
   * (`createRedisReplayStore(client)` from `bearer-gate/redis`).
   */
  replayStore?: ReplayStore | undefined;
  /**
   * Server-provided nonces (RFC 9449 §9): every response carries `DPoP-Nonce`, and a proof without a
   * current one is refused with `use_dpop_nonce`. `true`: a secret of this process; several
   * instances give them one `secret` (at least 32 bytes). A nonce lives `lifetimeSeconds`
   * (default 300) and the one before it is still taken.
   */
  nonce?: boolean | { secret?: string | Uint8Array | undefined; lifetimeSeconds?: number | undefined } | undefined;
}

/** The `dpop` option once checked. */
export interface DpopPolicy {
  readonly required: boolean;
  readonly rules: ProofRules;
  readonly replayStore: ReplayStore;
  readonly nonces: Nonces | undefined;
  /** The proofs' algorithms, space-separated, for the challenge's `algs`. */
  readonly algs: string;
  /** How long a proof's `jti` is remembered: as long as the proof could be taken, in ms. */
  readonly replayTtlMs: number;
}

const DEFAULT_ALGORITHMS = ["ES256", "EdDSA", "Ed25519", "RS256", "PS256"];
const KNOWN = ["origin", "required", "algorithms", "maxAgeSeconds", "replayStore", "nonce"];

export function dpopPolicy(
  input: DpopOptions | undefined,
  settings: { clockTolerance: number; clock: () => number; maxTokenLength: number },
): DpopPolicy | undefined {
  if (input === undefined) return undefined;
  rejectUnknown(plainObject(input, "dpop"), KNOWN, "`dpop`");
  const origin = checkOrigin(input.origin);
  const algorithms = input.algorithms ?? DEFAULT_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new ConfigError("`dpop.algorithms` must be a non-empty list.");
  }
  const stray = algorithms.filter((alg) => typeof alg !== "string" || !PUBLIC_KEY_ALGORITHMS.includes(alg));
  if (stray.length > 0) {
    throw new ConfigError(
      `\`dpop.algorithms\`: ${stray.map((alg) => JSON.stringify(alg)).join(", ")} cannot sign a proof; a proof is ` +
        `signed with the client's private key, by one of ${PUBLIC_KEY_ALGORITHMS.join(", ")} (never HMAC or none).`,
    );
  }
  const maxAgeSeconds = number(input.maxAgeSeconds, "dpop.maxAgeSeconds", 60, { min: 1, max: 300 });
  const replayStore = input.replayStore ?? createMemoryReplayStore({ clock: settings.clock });
  if (replayStore === null || typeof replayStore !== "object" || typeof replayStore.add !== "function") {
    throw new ConfigError("`dpop.replayStore` must be an object with an `add(key, ttlMs)` method.");
  }
  const nonces = nonceMaker(input.nonce, settings.clock);
  return Object.freeze({
    required: bool(input.required, "dpop.required", false),
    rules: Object.freeze({
      origin,
      verifiers: signatureVerifiers(algorithms),
      maxAgeSeconds,
      clockTolerance: settings.clockTolerance,
      maxProofLength: settings.maxTokenLength,
      nonces: nonces?.accepted,
    }),
    replayStore,
    nonces,
    algs: algorithms.join(" "),
    // a proof is taken while now is within [iat - tolerance, iat + maxAge + tolerance]
    replayTtlMs: (maxAgeSeconds + 2 * settings.clockTolerance + 1) * 1000,
  });
}

function checkOrigin(origin: unknown): string {
  if (origin === undefined) {
    throw new ConfigError(
      "`dpop.origin` is required: the API's public origin as clients call it (`https://api.example.com`). A " +
        "proof names the URL it was made for, and the Host header cannot be trusted to say what it should be.",
    );
  }
  const url = typeof origin === "string" && URL.canParse(origin) ? new URL(origin) : undefined;
  if (
    url === undefined ||
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.username !== "" ||
    url.password !== ""
  ) {
    throw new ConfigError(
      `\`dpop.origin\` must be an http(s) origin with no path, query or credentials (\`https://api.example.com\`), got ${JSON.stringify(origin)}.`,
    );
  }
  return url.origin;
}

const MIN_SECRET_BYTES = 32;

function nonceMaker(input: DpopOptions["nonce"], clock: () => number): Nonces | undefined {
  if (input === undefined || input === false) return undefined;
  if (input === true) return createNonces(undefined, 300, clock);
  rejectUnknown(plainObject(input, "dpop.nonce"), ["secret", "lifetimeSeconds"], "`dpop.nonce`");
  const lifetime = number(input.lifetimeSeconds, "dpop.nonce.lifetimeSeconds", 300, { min: 10, max: 86_400 });
  const { secret } = input;
  if (secret === undefined) return createNonces(undefined, lifetime, clock);
  const bytes = typeof secret === "string" ? Buffer.from(secret) : secret instanceof Uint8Array ? secret : undefined;
  if (bytes === undefined || bytes.length < MIN_SECRET_BYTES) {
    throw new ConfigError(`\`dpop.nonce.secret\` must be a string or bytes of at least ${MIN_SECRET_BYTES} bytes.`);
  }
  return createNonces(Uint8Array.from(bytes), lifetime, clock);
}
