import { ConfigError } from "../errors/errors.js";

/**
 * The most `clockTolerance` may be, in seconds. The revocation list keeps every entry this long
 * past the token's `exp`, so no verifier can accept a revoked token in its tolerance window,
 * whatever tolerance each instance of an API was given.
 */
export const MAX_CLOCK_TOLERANCE = 300;

// Checks of one option each, for normalizeOptions and the other constructors: a bad value is a
// ConfigError naming the option, thrown at construction.

export function number(
  value: unknown,
  name: string,
  fallback: number,
  rule: { min: number; max?: number; integer?: boolean },
): number {
  if (value === undefined) return fallback;
  const { min, max = Number.MAX_SAFE_INTEGER, integer = false } = rule;
  if (typeof value !== "number" || !(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(
      `\`${name}\` must be a${integer ? "n integer" : " number"} ${range}, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

export function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ConfigError(`\`${name}\` must be true or false.`);
  return value;
}

export function nonEmpty(value: unknown, name: string): string {
  if (typeof value !== "string" || value.trim() === "")
    throw new ConfigError(`\`${name}\` must be a non-empty string.`);
  return value;
}

export function fn<F>(value: F | undefined, name: string): F | undefined {
  if (value !== undefined && typeof value !== "function") throw new ConfigError(`\`${name}\` must be a function.`);
  return value;
}

/**
 * Refuses keys an options object does not know, so a typo fails at startup, and names the known
 * option each one most likely meant (`clientID`: did you mean `clientId`?).
 */
export function rejectUnknown(input: object, known: readonly string[], what?: string): void {
  const stray = Object.keys(input).filter((key) => !known.includes(key));
  if (stray.length === 0) return;
  const named = stray.map((key) => {
    const near = nearest(key, known);
    return near === undefined ? `\`${key}\`` : `\`${key}\` (did you mean \`${near}\`?)`;
  });
  throw new ConfigError(`unknown ${what === undefined ? "" : `${what} `}option(s): ${named.join(", ")}.`);
}

/** Checks that an options object is one plain object, not null, a list or a string. */
export function plainObject(value: unknown, name: string): object {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(
      `\`${name}\` must be one object, got ${Array.isArray(value) ? "a list" : JSON.stringify(value)}.`,
    );
  }
  return value;
}

/** The known name closest to `key` (case aside), when close enough to be a typo of it. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(key.length / 3)) + 1; // a third of the letters may be off
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

// Levenshtein distance, one row at a time
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((row[j - 1] ?? 0) + 1, (previous[j] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/**
 * Reads a clock of the options (milliseconds since the epoch). A clock that answers anything but a
 * finite number throws: a time check against NaN would pass every token.
 */
export function readClock(clock: () => number): number {
  const ms: unknown = clock();
  if (typeof ms !== "number" || !Number.isFinite(ms)) {
    throw new Error(
      `bearer-gate: the clock returned ${typeof ms === "number" ? String(ms) : typeof ms}, not milliseconds`,
    );
  }
  return ms;
}

/** Whether a value is a promise or any other thenable (what `await` would wait for). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
