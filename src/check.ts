import { ConfigError } from "./errors.js";

// Checks of one option each, for normalizeOptions and the other constructors: a bad value is a
// ConfigError naming the option, thrown at construction.

export function number(
  value: unknown,
  name: string,
  fallback: number,
  rule: { min: number; integer?: boolean },
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < rule.min ||
    (rule.integer && !Number.isInteger(value))
  ) {
    throw new ConfigError(
      `\`${name}\` must be a${rule.integer ? "n integer" : " number"} >= ${rule.min}, got ${JSON.stringify(value)}.`,
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

/** Refuses keys an options object does not know, so a typo fails at startup. */
export function rejectUnknown(input: object, known: readonly string[], what?: string): void {
  const stray = Object.keys(input).filter((key) => !known.includes(key));
  if (stray.length > 0) {
    throw new ConfigError(`unknown ${what === undefined ? "" : `${what} `}option(s): ${stray.join(", ")}.`);
  }
}
