import { quote, TokenError, type Reason } from "../errors/errors.js";
import { isThenable } from "../options/check.js";
import type { Policy } from "../options/options.js";
import type { Claims } from "../types.js";

const MAX_DATE_SECONDS = 8.64e12;

/** The part of the policy that judges claims. */
export type ClaimRules = Pick<
  Policy,
  "tokenUse" | "clockTolerance" | "issuers" | "audiences" | "clientIds" | "requiredClaims" | "profile"
>;
/**
 * Checks what a verified signature does not: the token kind, `exp` (required), `nbf`, issuer,
 * audience, client and the required claims, all against the `now` it is given (in seconds).
 * @throws TokenError with the first rule the claims break.
 */
export function checkClaims(claims: Partial<Claims>, policy: ClaimRules, now: number): asserts claims is Claims {
  checkKind(claims, policy);
  if (claims.exp === undefined) refuse("malformed_token", "the token has no exp claim");
  // ECMA-262 §21.4.1.22: no Date lies past 8.64e15 ms, so expiresAt could not hold a later exp
  if (Math.abs(claims.exp) > MAX_DATE_SECONDS) refuse("malformed_token", `exp ${claims.exp} is not a date`);
  checkTimes(claims as Claims, policy.clockTolerance, now);
  if (policy.issuers !== undefined && (claims.iss === undefined || !policy.issuers.has(claims.iss))) {
    refuse("wrong_issuer", `iss ${quote(claims.iss)} is not allowed`);
  }
  if (policy.audiences !== undefined && !matchesAny(claims.aud, policy.audiences)) {
    refuse("wrong_audience", "no aud member is allowed");
  }
  if (policy.tokenUse !== undefined) checkCognitoShape(claims);
  if (policy.clientIds !== undefined) {
    // Cognito access tokens name their app client in client_id; ID tokens in aud
    const client = claims["token_use"] === "id" ? claims.aud : claims["client_id"];
    if (!matchesAny(client, policy.clientIds)) refuse("wrong_audience", "the client id is not allowed");
  }
  if (policy.profile === "rfc9068") checkRfc9068(claims);
  checkRequired(claims, policy);
}

// RFC 9068 §2.2: the claims every JWT access token carries
const RFC9068_CLAIMS = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] as const;
function checkRfc9068(claims: Partial<Claims>): void {
  const missing = RFC9068_CLAIMS.filter((name) => claims[name] === undefined);
  if (missing.length > 0) refuse("claim_mismatch", `RFC 9068 requires ${missing.join(", ")}`);
}

/**
 * The header's `typ` (RFC 7515 §4.1.9: the `application/` prefix may be left out, and case does not
 * count): absent, `JWT` or `at+jwt` for an access token; under RFC 9068, `at+jwt` only. Anything else
 * (`dpop+jwt`, `logout+jwt`, `secevent+jwt`, `id_token+jwt`) is another kind of token:
 * `wrong_token_use`, so a DPoP proof, a logout token or a security event is never an access token.
 */
export function checkType(typ: unknown, profile: Policy["profile"]): void {
  // the common spellings first, with no string made
  if (profile === undefined && (typ === undefined || typ === "JWT" || typ === "at+jwt")) return;
  if (typ === undefined) refuse("wrong_token_use", "RFC 9068 requires typ at+jwt; the header has none");
  if (typeof typ !== "string") refuse("malformed_token", "the header's typ is not a string");
  const media = typ.toLowerCase().replace(/^application\//, "");
  if (media === "at+jwt" || (media === "jwt" && profile === undefined)) return;
  refuse(
    "wrong_token_use",
    `typ ${quote(typ)} is not an access token's${profile === undefined ? "" : " (RFC 9068: at+jwt)"}`,
  );
}

/**
 * `exp`, `nbf` and `iat` against `now` (seconds), give or take `tolerance`: on every request,
 * cached or not. A token issued in the future is refused like one not valid yet: it would
 * otherwise pass a "log out everywhere" cutoff it was really issued before.
 */
export function checkTimes(
  claims: { readonly exp: number; readonly nbf?: number | undefined; readonly iat?: number | undefined },
  tolerance: number,
  now: number,
): void {
  if (now - tolerance >= claims.exp) refuse("expired", `exp ${claims.exp} is past`);
  if (claims.nbf !== undefined && now + tolerance < claims.nbf) refuse("not_yet_valid", `nbf ${claims.nbf} is ahead`);
  if (claims.iat !== undefined && now + tolerance < claims.iat) refuse("not_yet_valid", `iat ${claims.iat} is ahead`);
}

/**
 * The required claims; their predicates may read outside state, so they run on every request. A
 * predicate must answer `true` or `false`: anything else (a promise from an `async` function, the
 * string `"false"`) is a fault of the app's, answered 980 with a cause naming the claim, never a pass.
 */
export function checkRequired(claims: Partial<Claims>, policy: Pick<ClaimRules, "requiredClaims">): void {
  for (const [name, matches] of policy.requiredClaims) {
    if (!verdict(matches(claims[name]), `requiredClaims.${name}`)) {
      refuse("claim_mismatch", `claim ${quote(name)} does not match`);
    }
  }
}

/**
 * What a user's predicate answered, when it is a boolean; else a `TokenError` 980 whose cause
 * names the predicate (`requiredClaims.tenant`, `requireUser`) and what came back.
 */
export function verdict(answer: unknown, predicate: string): boolean {
  if (typeof answer === "boolean") return answer;
  const got =
    answer instanceof Promise || isThenable(answer) ? "a promise (an async function?)" : describeValue(answer);
  throw new TokenError("internal_error", undefined, {
    cause: new Error(`${predicate}'s predicate returned ${got}, not true or false`),
  });
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return `the string ${quote(value)}`;
  if (value === null || value === undefined) return String(value);
  return typeof value === "object"
    ? Array.isArray(value)
      ? "a list"
      : "an object"
    : `the ${typeof value} ${quote(value)}`;
}

// A refresh token or an ID token must never open a route that wants an access token.
function checkKind(claims: Partial<Claims>, policy: ClaimRules): void {
  if (claims["token_type"] === "refresh") refuse("wrong_token_use", "token_type is refresh");
  const use = claims["token_use"];
  const wanted = policy.tokenUse;
  if (wanted === undefined) {
    if (use === "id") refuse("wrong_token_use", "token_use is id");
  } else if (wanted === "any" ? use !== "access" && use !== "id" : use !== wanted) {
    refuse("wrong_token_use", `token_use ${quote(use)} is not ${wanted}`);
  }
}

// What `CognitoClaims` promises: true of every token a Cognito verifier lets through
const COGNITO_STRINGS = ["client_id", "username", "cognito:username", "scope", "origin_jti", "event_id"];
function checkCognitoShape(claims: Partial<Claims>): void {
  if (typeof claims.sub !== "string") refuse("malformed_token", "a Cognito token without a sub");
  for (const name of COGNITO_STRINGS) {
    const value = claims[name];
    if (value !== undefined && typeof value !== "string") refuse("malformed_token", `${name} is not a string`);
  }
  const authTime = claims["auth_time"];
  if (authTime !== undefined && typeof authTime !== "number") refuse("malformed_token", "auth_time is not a number");
  const groups = claims["cognito:groups"];
  if (groups !== undefined && !(Array.isArray(groups) && groups.every((group) => typeof group === "string"))) {
    refuse("malformed_token", "cognito:groups is not a list of strings");
  }
}

function matchesAny(value: unknown, allowed: ReadonlySet<string>): boolean {
  if (typeof value === "string") return allowed.has(value);
  return Array.isArray(value) && value.some((member) => typeof member === "string" && allowed.has(member));
}

function refuse(reason: Reason, detail: string): never {
  throw new TokenError(reason, undefined, { cause: new Error(detail) });
}
