import { ConfigError, TokenError, toTokenError } from "../errors/errors.js";
import { verdict } from "../token/claims.js";
import type { AuthContext, Claims } from "../types.js";
import { guardChannel, type GuardEvent } from "../events.js";
import { isGateContext } from "./context.js";
import { groupList, inAnyGroup, isUserToken, missingScopes, scopeList, type ScopeMode } from "./scopes.js";
import { claimPath, readPath, type ClaimPath } from "../token/path.js";

/** A claim's value a guard asks for: compared with `===`. */
export type ClaimValue = string | number | boolean | null;

/**
 * What `requireClaim` accepts: a value (the claim equals it, or is a list holding it), a list of
 * values (any of them), or a predicate of the claim's value (and all the claims) that answers a boolean.
 */
export type ClaimRequirement<C extends object = Claims> =
  ClaimValue | readonly ClaimValue[] | ((value: unknown, claims: Claims & C) => boolean);

// What every route guard does, whatever the framework: the adapters read the request's auth
// context, call `judgeRequest`, and answer its refusal their own way.

/** A guard's rule: its name, what it asks for, and its refusal for an auth context (or `undefined`). */
export interface Judge {
  readonly guard: string;
  readonly required: readonly string[];
  check(auth: AuthContext): TokenError | undefined;
}

/**
 * A guard's answer for the auth context a request carries: 401 `missing_token` when there is none
 * (no `requireToken` let it through, or it came anonymously with `credentialsRequired: false`);
 * 980 when it is not one that `requireToken` made (express-jwt or another middleware set `req.auth`:
 * fail closed, and loud in the logs); else the judge's refusal, a throw of it answering 980.
 */
export function judgeRequest(auth: unknown, judge: Judge): TokenError | undefined {
  if (auth === undefined) return new TokenError("missing_token");
  if (!isGateContext(auth)) {
    return new TokenError("internal_error", undefined, {
      cause: new Error(
        "a bearer-gate guard ran without requireToken before it: the request's auth context was set by something else",
      ),
    });
  }
  let refusal: TokenError | undefined;
  try {
    refusal = judge.check(auth);
  } catch (error) {
    refusal = toTokenError(error);
  }
  if (refusal === undefined) return undefined;
  const named = new TokenError(refusal.reason, refusal.params, { cause: refusal.cause, guard: judge.guard });
  if (guardChannel.hasSubscribers) {
    guardChannel.publish({ guard: judge.guard, reason: named.reason, required: judge.required } satisfies GuardEvent);
  }
  return named;
}

/** The rule of `requireScope` (`"all"`) and `requireAnyScope` (`"any"`); the scopes checked now. */
export function scopeJudge(scopes: readonly unknown[], mode: ScopeMode, guard: string): Judge {
  const required = scopeList(scopes, guard);
  return {
    guard,
    required,
    check: (auth) => {
      const missing = missingScopes(auth.scopes, required, mode);
      return missing.length > 0 ? new TokenError("insufficient_scope", missing) : undefined;
    },
  };
}

/** The rule of `requireGroup`; the groups checked now. */
export function groupJudge(groups: readonly unknown[], guard: string): Judge {
  const required = groupList(groups, guard);
  return {
    guard,
    required,
    check: (auth) => (inAnyGroup(auth.groups, required) ? undefined : new TokenError("insufficient_group", required)),
  };
}

/**
 * The rule of `requireUser`: the user's predicate, which must answer a boolean; or by default the
 * verifier's kind of token (`isUserToken`): for a Cognito verifier a token with a user name, else
 * a `type` of `"user"`.
 */
export function userJudge(isUser: unknown): Judge {
  const judge = (check: Judge["check"]): Judge => ({ guard: "requireUser", required: [], check });
  if (isUser === undefined) {
    return judge((auth) =>
      isUserToken(auth.claims, { cognito: auth.userPoolId !== undefined })
        ? undefined
        : new TokenError("user_required"),
    );
  }
  if (typeof isUser !== "function") {
    throw new ConfigError("`requireUser()` takes a predicate `(claims) => boolean`, or nothing for the default rule.");
  }
  const predicate = isUser as (claims: Claims) => unknown;
  return judge((auth) =>
    verdict(predicate(auth.claims), "requireUser") ? undefined : new TokenError("user_required"),
  );
}

/**
 * The rule of `requireClaim`: the claim at `name` (a name, a dotted path, or a list of keys) must
 * match; else 403 `insufficient_claim`, with the claim's name in `params`. Checked now: a name
 * and a matcher of a known shape.
 */
export function claimJudge(name: unknown, requirement: unknown): Judge {
  const path = claimPath(name, "requireClaim()'s claim");
  const shown = typeof name === "string" ? name : path.join(".");
  const matches = claimMatcher(requirement, shown);
  const refusal = (): TokenError => new TokenError("insufficient_claim", [shown]);
  return {
    guard: "requireClaim",
    required: [shown],
    check: (auth) => (matches(readPath(auth.claims, path), auth.claims) ? undefined : refusal()),
  };
}

function claimMatcher(requirement: unknown, shown: string): (value: unknown, claims: Claims) => boolean {
  if (typeof requirement === "function") {
    const predicate = requirement as (value: unknown, claims: Claims) => unknown;
    return (value, claims) => verdict(predicate(value, claims), `requireClaim(${JSON.stringify(shown)})`);
  }
  const values = Array.isArray(requirement) ? (requirement as unknown[]) : [requirement];
  if (values.length === 0 || !values.every(isClaimValue)) {
    throw new ConfigError(
      `\`requireClaim(${JSON.stringify(shown)}, ...)\` takes a value (string, number, boolean or null), a non-empty list of them, or a predicate \`(value, claims) => boolean\`.`,
    );
  }
  const wanted = Object.freeze([...values]);
  // the claim is the value, or a list (Keycloak's roles, Entra ID's groups) that holds it
  return (value) =>
    Array.isArray(value)
      ? value.some((member) => wanted.includes(member as ClaimValue))
      : wanted.includes(value as ClaimValue);
}

function isClaimValue(value: unknown): value is ClaimValue {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

export type { ClaimPath };
