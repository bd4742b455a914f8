import { ConfigError, TokenError } from "./errors.js";

// OAuth (RFC 6749 §3.3) and Cognito delimit scopes with spaces; the API's own tokens with commas.
const DELIMITERS = /[\s,]+/;

/**
 * Parses a scope claim to a list: a space- or comma-delimited string, or an array of strings.
 * An absent claim is no scopes.
 * @throws TokenError `malformed_token` when the claim is of any other type.
 */
export function parseScopes(claim: unknown): readonly string[] {
  if (claim === undefined) return NO_SCOPES;
  if (typeof claim === "string") return scopeString(claim);
  if (Array.isArray(claim) && claim.every((scope) => typeof scope === "string")) {
    return unique(claim.flatMap((scope) => scope.split(DELIMITERS)));
  }
  throw new TokenError("malformed_token", undefined, {
    cause: new Error("the scope claim is neither a string nor a list of strings"),
  });
}

const NO_SCOPES: readonly string[] = Object.freeze([]);

// The tokens of one client carry one scope string: each is split once and its frozen list shared.
// Bounded; full, it starts over, so odd scope strings cost only time.
const SCOPE_STRINGS = new Map<string, readonly string[]>();
const MAX_SCOPE_STRINGS = 256;
const MAX_KEPT_SCOPE_CHARS = 1024;

function scopeString(claim: string): readonly string[] {
  const known = SCOPE_STRINGS.get(claim);
  if (known !== undefined) return known;
  const scopes = unique(claim.split(DELIMITERS));
  if (claim.length <= MAX_KEPT_SCOPE_CHARS) {
    if (SCOPE_STRINGS.size >= MAX_SCOPE_STRINGS) SCOPE_STRINGS.clear();
    SCOPE_STRINGS.set(claim, scopes);
  }
  return scopes;
}

function unique(scopes: readonly string[]): readonly string[] {
  return Object.freeze([...new Set(scopes.filter((scope) => scope !== ""))]);
}

/** Whether a guard needs every listed scope or any one of them. */
export type ScopeMode = "all" | "any";

/**
 * The scopes a guard requires that `granted` lacks, in the order the guard names them: for
 * `"all"`, each missing one; for `"any"`, every listed scope when none is granted, else none.
 */
export function missingScopes(
  granted: readonly string[],
  required: readonly string[],
  mode: ScopeMode = "all",
): string[] {
  const missing = required.filter((scope) => !granted.includes(scope));
  if (mode === "any") return missing.length < required.length ? [] : [...required];
  return missing;
}

/** Checks a guard's scopes once, at startup: at least one, each a non-empty word. */
export function scopeList(scopes: readonly unknown[], guard: string): readonly string[] {
  if (scopes.length === 0) throw new ConfigError(`\`${guard}()\` needs at least one scope.`);
  for (const scope of scopes) {
    if (typeof scope !== "string" || scope === "" || DELIMITERS.test(scope)) {
      throw new ConfigError(`\`${guard}()\`: ${JSON.stringify(scope)} is not a scope (one word, no spaces or commas).`);
    }
  }
  return Object.freeze([...(scopes as string[])]);
}
