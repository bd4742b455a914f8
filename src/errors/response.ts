import { MESSAGES, reasonRow, toTokenError, type Code } from "./errors.js";

/** The catalogue's error body. */
export interface ErrorBody {
  readonly error: { readonly message: string; readonly code: Code; readonly params?: readonly string[] };
}

/** What an adapter sends for a refused request. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
}

/** What a protected resource adds to its 401 challenges (RFC 9728 §5.1, and scope hints). */
export interface ChallengeOptions {
  /** The absolute URL of the resource's metadata document: `resource_metadata="..."`. */
  readonly resourceMetadata?: string | undefined;
  /** The scopes a client should ask for, space-separated: `scope="..."`. */
  readonly scope?: string | undefined;
  /**
   * With the `dpop` option: a `DPoP` challenge naming the proofs' algorithms (RFC 9449 §7.1), beside
   * the `Bearer` one unless DPoP is `required`; the error goes on the scheme the request used (a
   * proof's own errors always on `DPoP`). `nonce` is sent as `DPoP-Nonce`.
   */
  readonly dpop?: DpopChallenge | undefined;
}

/** What a `DPoP` challenge says. */
export interface DpopChallenge {
  /** The proofs' algorithms, space-separated: `algs="ES256 EdDSA"`. */
  readonly algs: string;
  /** Only DPoP is accepted: no `Bearer` challenge. */
  readonly required?: boolean | undefined;
  /** The request came with `Authorization: DPoP`. */
  readonly presented?: boolean | undefined;
  /** The nonce to hand out in `DPoP-Nonce` (RFC 9449 §9). */
  readonly nonce?: string | undefined;
}

/**
 * Turns any error into the response the catalogue prescribes: the status, an RFC 6750
 * `WWW-Authenticate` challenge for 401 and 403, and the catalogue body. Anything that is not a
 * `TokenError` becomes a 980 whose text says nothing of the original error. A protected resource's
 * 401s also name its metadata document and the scopes to ask for (`options`).
 * @example
 * const { status, headers, body } = errorResponse(err);
 * res.status(status).set(headers).json(body);
 */
export function errorResponse(err: unknown, options?: ChallengeOptions): ErrorResponse {
  const error = toTokenError(err);
  const row = reasonRow(error.reason);
  const headers: Record<string, string> = {};
  if (error.status === 401 || error.status === 403) {
    headers["WWW-Authenticate"] = challenge(error.reason, error.params, error.status === 401 ? options : undefined);
  }
  if (options?.dpop?.nonce !== undefined) headers["DPoP-Nonce"] = options.dpop.nonce;
  // RFC 9110 §10.2.3: when the key set may be asked again, so a client need not hammer a 503
  if (error.status === 503 && error.retryAfter !== undefined) headers["Retry-After"] = String(error.retryAfter);
  const body: ErrorBody["error"] =
    error.params === undefined
      ? { message: MESSAGES[row.code], code: row.code }
      : { message: MESSAGES[row.code], code: row.code, params: error.params };
  return { status: row.status, headers, body: { error: body } };
}

// RFC 6750 §3: a bare `Bearer` when no credentials came (§3.1), else the error code, a fixed
// description and, for a scope failure, the scopes wanted. RFC 9449 §7.1: with DPoP, a `DPoP`
// challenge too, which carries the error when the request used DPoP or the proof is at fault.
function challenge(
  reason: Parameters<typeof reasonRow>[0],
  params: readonly string[] | undefined,
  resource: ChallengeOptions | undefined,
): string {
  const row = reasonRow(reason);
  const error =
    row.challenge === null ? [] : [`error="${row.challenge}"`, `error_description="${quotable(row.description)}"`];
  // the scopes wanted, for a scope failure only: a group is not a scope
  if (reason === "insufficient_scope" && params !== undefined && params.length > 0) {
    error.push(`scope="${quotable(params.join(" "))}"`);
  }
  // RFC 9728 §5.1: where a client finds how to get a token for this resource, and what to ask for
  const about: string[] = [];
  if (resource?.scope !== undefined && reason !== "insufficient_scope")
    about.push(`scope="${quotable(resource.scope)}"`);
  if (resource?.resourceMetadata !== undefined) {
    about.push(`resource_metadata="${quotable(resource.resourceMetadata)}"`);
  }
  const dpop = resource?.dpop;
  if (dpop === undefined) return scheme("Bearer", [...error, ...about]);
  const onDpop =
    dpop.required === true ||
    dpop.presented === true ||
    row.challenge === "invalid_dpop_proof" ||
    row.challenge === "use_dpop_nonce";
  const dpopChallenge = scheme("DPoP", [...(onDpop ? error : []), ...about, `algs="${quotable(dpop.algs)}"`]);
  if (dpop.required === true) return dpopChallenge;
  return `${scheme("Bearer", [...(onDpop ? [] : error), ...about])}, ${dpopChallenge}`;
}

function scheme(name: string, parts: readonly string[]): string {
  return parts.length === 0 ? name : `${name} ${parts.join(", ")}`;
}

// RFC 6750 §3: these values exclude `"` and `\`; CR/LF would split the header.
function quotable(text: string): string {
  return text.replace(/["\\\r\n]/g, "");
}
