import { ConfigError } from "../errors/errors.js";

/**
 * Where a claim is: a path of keys into the claims. `"scope"` is one key; `"realm_access.roles"`
 * (Keycloak) walks into an object; a list names keys as they are, for names that hold dots
 * (`["https://example.com/roles"]`, Auth0's namespaced claims) or a path through them.
 */
export type ClaimPath = string | readonly string[];

/**
 * Checks a claim path option once, at start-up: a non-empty string split on dots, or a non-empty
 * list of non-empty keys. A string that looks like a URL is refused: its dots are not a path, and
 * it must be given as a list.
 */
export function claimPath(value: unknown, option: string): readonly string[] {
  if (typeof value === "string") {
    if (value.includes("://")) {
      throw new ConfigError(
        `\`${option}\`: ${JSON.stringify(value)} holds dots that are part of its name: give it as a list, ` +
          `[${JSON.stringify(value)}] (a string is a path: "realm_access.roles").`,
      );
    }
    const keys = value.split(".");
    if (keys.some((key) => key === "")) {
      throw new ConfigError(
        `\`${option}\` must be a claim name or a dotted path of them, got ${JSON.stringify(value)}.`,
      );
    }
    return Object.freeze(keys);
  }
  if (Array.isArray(value) && value.length > 0 && value.every((key) => typeof key === "string" && key !== "")) {
    return Object.freeze([...(value as string[])]);
  }
  throw new ConfigError(
    `\`${option}\` must be a claim name, a dotted path ("realm_access.roles"), or a list of keys; got ${JSON.stringify(value)}.`,
  );
}

/**
 * The value at a path of the claims, or `undefined` where the path leads nowhere (a key missing,
 * or a step into something that is not an object). Decoded claims have null prototypes all the
 * way down: no key reaches a prototype.
 */
export function readPath(claims: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let value: unknown = claims;
  for (const key of path) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}
