import { bounded, displayUrl } from "./text.js";

export { quote } from "./text.js";

/** The catalogue's messages, byte for byte: they are part of the API's contract with its clients. */
export const MESSAGES = {
  400: "Your request could not be completed because it was not properly authenticated.",
  401: "A valid access token is required to access this resource.",
  420: "You must be authenticated as a user to take this action.",
  450: "The provided access token is invalid, or cannot be used with the provided parameters.",
  980: "Something went wrong while communicating with our server.",
} as const;

/** A catalogue code this package answers with. */
export type Code = keyof typeof MESSAGES;

/** The RFC 6750 §3.1 error code a reason is challenged with; `null` sends no error code. */
export type Challenge =
  "invalid_request" | "invalid_token" | "insufficient_scope" | "invalid_dpop_proof" | "use_dpop_nonce" | null;

interface ReasonRow {
  readonly code: Code;
  readonly status: number;
  readonly challenge: Challenge;
  /** Fixed text for the challenge's `error_description`; never built from the token. */
  readonly description: string;
}

/** The only place where a reason becomes a code, a status and a challenge. */
const REASONS = {
  missing_token: { code: 401, status: 401, challenge: null, description: "" },
  malformed_header: {
    code: 400,
    status: 401,
    challenge: "invalid_request",
    description: "The Authorization header must be Bearer followed by one token",
  },
  token_too_long: {
    code: 400,
    status: 401,
    challenge: "invalid_request",
    description: "The access token is too long",
  },
  malformed_token: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token is malformed",
  },
  expired: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token expired",
  },
  not_yet_valid: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token is not valid yet",
  },
  invalid_signature: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token signature is invalid",
  },
  unknown_key: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token is signed with an unknown key",
  },
  algorithm_not_allowed: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token is signed with an algorithm that is not allowed",
  },
  wrong_issuer: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token comes from another issuer",
  },
  wrong_audience: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token is meant for another audience",
  },
  wrong_token_use: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The token is not an access token",
  },
  claim_mismatch: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token does not carry a required claim",
  },
  // RFC 9449 §7.1: the DPoP proof is missing, malformed, or does not fit this request and token
  invalid_dpop_proof: {
    code: 450,
    status: 401,
    challenge: "invalid_dpop_proof",
    description: "The DPoP proof is missing or invalid",
  },
  // RFC 9449 §9: the proof must carry the nonce the DPoP-Nonce header hands out
  use_dpop_nonce: {
    code: 450,
    status: 401,
    challenge: "use_dpop_nonce",
    description: "Resource server requires nonce in DPoP proof",
  },
  // a token bound to a key, sent as a plain bearer token: whoever sends it may have stolen it
  dpop_bound_token: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token is DPoP-bound: send it with the DPoP scheme and a proof",
  },
  dpop_required: {
    code: 400,
    status: 401,
    challenge: "invalid_request",
    description: "The Authorization header must be DPoP followed by one token, with a DPoP proof",
  },
  // RFC 8705 §3: the token is bound to a client certificate this connection did not present
  wrong_certificate: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token is bound to another client certificate",
  },
  revoked: {
    code: 450,
    status: 401,
    challenge: "invalid_token",
    description: "The access token was revoked",
  },
  insufficient_scope: {
    code: 450,
    status: 403,
    challenge: "insufficient_scope",
    description: "The access token lacks a required scope",
  },
  insufficient_group: {
    code: 450,
    status: 403,
    challenge: "insufficient_scope",
    description: "The access token's user is in none of the required groups",
  },
  insufficient_claim: {
    code: 450,
    status: 403,
    challenge: "insufficient_scope",
    description: "The access token lacks a claim value the route requires",
  },
  // a machine's token is not a bad token, but RFC 6750's insufficient_scope belongs to 403
  user_required: {
    code: 420,
    status: 401,
    challenge: "invalid_token",
    description: "The route needs a user's access token, not a machine's",
  },
  // catalogue: a key outage is 980; a 401 would make every client refresh and log users out
  keys_unavailable: { code: 980, status: 503, challenge: null, description: "" },
  // fail closed: a revocation list that cannot be read must not let a revoked token in
  revocation_unavailable: { code: 980, status: 503, challenge: null, description: "" },
  // fail closed: a proof whose use cannot be recorded might be a replay
  replay_unavailable: { code: 980, status: 503, challenge: null, description: "" },
  internal_error: { code: 980, status: 503, challenge: null, description: "" },
} as const satisfies Record<string, ReasonRow>;

/** Why a request was refused: a fixed, machine-readable snake_case string. */
export type Reason = keyof typeof REASONS;

/** Every reason, in catalogue order. */
export const ALL_REASONS = Object.freeze(Object.keys(REASONS) as Reason[]);

/** The row of the catalogue a reason answers with. */
export function reasonRow(reason: Reason): ReasonRow {
  return REASONS[reason];
}

/**
 * A request that cannot be let through: carries the catalogue's `code`, the HTTP `status`,
 * the catalogue's `message`, a machine-readable `reason`, and `params` where the catalogue has
 * them (the missing scopes, or the groups a route requires). Details for logs (which claim, which kid) live in `cause`, never in
 * `message`.
 */
export class TokenError extends Error {
  /**
   * Recognises a `TokenError` of any copy of this package (the ESM and the CommonJS build of one
   * install are two classes): by a brand shared through the global symbol registry, so
   * `instanceof` holds across them (the dual-package hazard).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, TOKEN_ERROR);
  }

  /** Catalogue text only, so any framework's default error handler may show the message. */
  readonly expose = true;
  readonly code: Code;
  readonly status: number;
  readonly reason: Reason;
  readonly params: readonly string[] | undefined;
  /**
   * For `keys_unavailable`: whole seconds until the key set may be downloaded again; for
   * `revocation_unavailable`, 1. Sent as `Retry-After` with the 503.
   */
  readonly retryAfter: number | undefined;
  /**
   * The route guard that refused the request (`requireScope`, `requireGroup`, ...): an authorization
   * refusal. `undefined` when `requireToken` refused it (authentication).
   */
  readonly guard: string | undefined;

  constructor(
    reason: Reason,
    params?: readonly string[],
    options?: { cause?: unknown; retryAfter?: number | undefined; guard?: string | undefined },
  ) {
    const row = REASONS[reason];
    super(MESSAGES[row.code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TokenError";
    this.reason = reason;
    this.code = row.code;
    this.status = row.status;
    this.params = params === undefined ? undefined : Object.freeze([...params]);
    this.retryAfter = options?.retryAfter;
    this.guard = options?.guard;
    brand(this, TOKEN_ERROR);
  }
}

/**
 * The key set could not be had when `ready()` asked for it: names the URL and the cause (the
 * connection refused, no answer in time, an answer that is not JSON, a set with no usable key).
 */
export class KeySetError extends Error {
  /** Holds across the ESM and CommonJS builds, like `TokenError`'s. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, KEY_SET_ERROR);
  }

  /** The URL that was asked, without any user name and password it holds. */
  readonly uri: string;

  constructor(uri: string, cause: unknown) {
    const shown = displayUrl(uri);
    super(`bearer-gate: the key set at ${shown} could not be had: ${describeFailure(cause)}.`, { cause });
    this.name = "KeySetError";
    this.uri = shown;
    brand(this, KEY_SET_ERROR);
  }
}

/** The innermost cause in words a user can act on; its text may come from a key server: bounded. */
export function describeFailure(error: unknown): string {
  return bounded(innerFailure(error));
}

function innerFailure(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause !== undefined) inner = inner.cause;
  const code = (inner as { code?: unknown } | undefined)?.code;
  if (code === "ECONNREFUSED") return "the connection was refused (is the server up, the port right?)";
  if (code === "ENOTFOUND") return "the host name was not found (is the region or the domain right?)";
  if (inner instanceof SyntaxError) return "the answer is not JSON";
  return inner instanceof Error ? inner.message : String(inner);
}

/** A bad option: thrown by `createVerifier` and the adapters at startup, never at a request. */
export class ConfigError extends TypeError {
  /** Holds across the ESM and CommonJS builds, like `TokenError`'s. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, CONFIG_ERROR);
  }

  constructor(message: string) {
    super(`bearer-gate: ${message}`);
    this.name = "ConfigError";
    brand(this, CONFIG_ERROR);
  }
}

// Symbol.for: one symbol per name in the whole process, whichever build asks for it
const TOKEN_ERROR = Symbol.for("bearer-gate.TokenError");
const CONFIG_ERROR = Symbol.for("bearer-gate.ConfigError");
const KEY_SET_ERROR = Symbol.for("bearer-gate.KeySetError");

function brand(error: Error, symbol: symbol): void {
  Object.defineProperty(error, symbol, { value: true });
}

function isBranded(value: unknown, symbol: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
}

/** `TokenError` for anything unexpected, so `verify()` only ever rejects with a `TokenError`. */
export function toTokenError(err: unknown): TokenError {
  // another copy's TokenError passes `instanceof`, but may carry a reason this copy does not know
  if (err instanceof TokenError && Object.hasOwn(REASONS, err.reason)) return err;
  return new TokenError("internal_error", undefined, { cause: err });
}
