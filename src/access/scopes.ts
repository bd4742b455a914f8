import { ConfigError, TokenError } from "../errors/errors.js";

// OAuth (RFC 6749 §3.3) and Cognito delimit scopes with spaces (U+0020 only: no other white
// space), the API's own tokens with commas. Any other character is part of its scope, so a scope
// holding a tab, a no-break space or U+2028 matches no guard.
const DELIMITERS = /[ ,]+/;
// what a guard's own scope or group may not hold: a delimiter, or any white space or control
// character (a typo that could never match a token's scope)
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const NOT_IN_A_NAME = /[\s,\u0000-\u001f\u007f-\u009f]/;
// a group name may hold a comma (Cognito allows punctuation): a list's member "a,b" is one group
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const NOT_IN_A_GROUP = /[\s\u0000-\u001f\u007f-\u009f]/;

/**
 * Parses a scope claim to a list: a string delimited by spaces (U+0020) or commas, or an array of
 * strings, each member taken whole (never split again). An absent claim is no scopes.
 * @throws TokenError `malformed_token` when the claim is of any other type.
 */
export function parseScopes(claim: unknown): readonly string[] {
  if (claim === undefined) return NO_SCOPES;
  if (typeof claim === "string") return scopeString(claim);
  if (Array.isArray(claim) && claim.every((scope) => typeof scope === "string")) {
    return unique(claim);
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
    if (typeof scope !== "string" || scope === "" || NOT_IN_A_NAME.test(scope)) {
      throw new ConfigError(`\`${guard}()\`: ${JSON.stringify(scope)} is not a scope (one word, no spaces or commas).`);
    }
  }
  return Object.freeze([...(scopes as string[])]);
}

const NO_GROUPS: readonly string[] = Object.freeze([]);

/**
 * Parses a groups claim (Cognito's `cognito:groups`) to a list: an array of strings, each member
 * taken whole, or a string delimited by spaces (U+0020) or commas. An absent claim is no groups.
 * @throws TokenError `malformed_token` when the claim is of any other type.
 */
export function parseGroups(claim: unknown): readonly string[] {
  if (claim === undefined) return NO_GROUPS;
  if (typeof claim === "string") return scopeString(claim);
  if (Array.isArray(claim) && claim.every((group) => typeof group === "string")) {
    // decoded claims are frozen already: the list itself, unless it holds an empty name
    return Object.isFrozen(claim) && !claim.includes("") ? claim : unique(claim);
  }
  throw new TokenError("malformed_token", undefined, {
    cause: new Error("the groups claim is neither a string nor a list of strings"),
  });
}

/** Checks a group guard's groups once, at startup: at least one, each a non-empty name without spaces. */
export function groupList(groups: readonly unknown[], guard: string): readonly string[] {
  if (groups.length === 0) throw new ConfigError(`\`${guard}()\` needs at least one group.`);
  for (const group of groups) {
    if (typeof group !== "string" || group === "" || NOT_IN_A_GROUP.test(group)) {
      throw new ConfigError(`\`${guard}()\`: ${JSON.stringify(group)} is not a group name (one word, no spaces).`);
    }
  }
  return Object.freeze([...(groups as string[])]);
}

/** Whether a token's groups hold any of the groups a guard lists. */
export function inAnyGroup(granted: readonly string[], required: readonly string[]): boolean {
  return required.some((group) => granted.includes(group));
}

/**
 * The default rule of `requireUser`, which follows the verifier's kind. For a Cognito verifier
 * (`cognito: true`), a token is a user's when it carries a user name (`username` in an access
 * token, `cognito:username` in an ID token), whatever else it says: a client-credentials token has
 * none. For any other verifier, when its `type` claim is `"user"` (the API's own tokens; a bot's
 * carry another type). `cognito` defaults to whether the token has a `token_use` claim.
 */
export function isUserToken(
  claims: Readonly<Record<string, unknown>>,
  verifier: { readonly cognito?: boolean | undefined } = {},
): boolean {
  if (verifier.cognito ?? typeof claims["token_use"] === "string") {
    return typeof claims["username"] === "string" || typeof claims["cognito:username"] === "string";
  }
  return claims["type"] === "user";
}
