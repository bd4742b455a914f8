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
  // RFC 9110 §10.2.3: when the key set may be asked again, so a client need not hammer a 503
  if (error.status === 503 && error.retryAfter !== undefined) headers["Retry-After"] = String(error.retryAfter);
  const body: ErrorBody["error"] =
    error.params === undefined
      ? { message: MESSAGES[row.code], code: row.code }
      : { message: MESSAGES[row.code], code: row.code, params: error.params };
  return { status: row.status, headers, body: { error: body } };
}

// RFC 6750 §3: a bare `Bearer` when no credentials came (§3.1), else the error code, a fixed
// description and, for a scope failure, the scopes wanted.
function challenge(
  reason: Parameters<typeof reasonRow>[0],
  params: readonly string[] | undefined,
  resource: ChallengeOptions | undefined,
): string {
  const row = reasonRow(reason);
  const parts =
    row.challenge === null ? [] : [`error="${row.challenge}"`, `error_description="${quotable(row.description)}"`];
  // the scopes wanted, for a scope failure only: a group is not a scope
  if (reason === "insufficient_scope" && params !== undefined && params.length > 0) {
    parts.push(`scope="${quotable(params.join(" "))}"`);
  }
  // RFC 9728 §5.1: where a client finds how to get a token for this resource, and what to ask for
  if (resource?.scope !== undefined && reason !== "insufficient_scope")
    parts.push(`scope="${quotable(resource.scope)}"`);
  if (resource?.resourceMetadata !== undefined) {
    parts.push(`resource_metadata="${quotable(resource.resourceMetadata)}"`);
  }
  return parts.length === 0 ? "Bearer" : `Bearer ${parts.join(", ")}`;
}

// RFC 6750 §3: these values exclude `"` and `\`; CR/LF would split the header.
function quotable(text: string): string {
  return text.replace(/["\\\r\n]/g, "");
}
