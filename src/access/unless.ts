import { ConfigError } from "../errors/errors.js";
import { plainObject, rejectUnknown } from "../options/check.js";

/** A path `unless` lets through: exactly this path, any path this expression matches, or either for some methods. */
export type UnlessPath = string | RegExp | { readonly url: string | RegExp; readonly methods: readonly string[] };

/**
 * Options of `requireToken(...).unless(...)`, as express-unless and koa-unless take them: the
 * requests that go on without a token (and without `req.auth`). A request's path is its path as
 * received (`originalUrl`), without the query.
 */
export interface UnlessOptions {
  /** Paths that need no token: exact strings, regular expressions, or `{ url, methods }`. */
  path?: UnlessPath | readonly UnlessPath[] | undefined;
  /** Methods that need no token on any path (`"GET"`, or a list). */
  method?: string | readonly string[] | undefined;
  /**
   * Default `true`: a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) needs no
   * token, as a browser never sends one with it. `false` checks preflights like any request.
   */
  preflight?: boolean | undefined;
}

/** What `unless` decides from: the request's method, path (no query) and whether it is a CORS preflight. */
export type Unless = (method: string, path: string, preflight: boolean) => boolean;

/** Checks `unless`'s options once, at start-up, and returns whether a request goes on without a token. */
export function unlessRule(options: unknown): Unless {
  const input = plainObject(options ?? {}, "unless") as UnlessOptions;
  rejectUnknown(input, ["path", "method", "preflight"], "`unless`");
  const paths = listOf(input.path).map(checkPath);
  const methods = listOf(input.method).map((method) => upper(method, "`unless` method"));
  const preflight = input.preflight ?? true;
  if (typeof preflight !== "boolean") throw new ConfigError("`unless({ preflight })` must be true or false.");
  if (paths.length === 0 && methods.length === 0 && !preflight) {
    throw new ConfigError("`unless()` names no path, no method and no preflight: it would skip nothing.");
  }
  return (method, path, isPreflight) =>
    (preflight && isPreflight) ||
    methods.includes(method) ||
    paths.some((rule) => matches(rule.url, path) && (rule.methods === undefined || rule.methods.includes(method)));
}

/** The path of a request target: what comes before `?` or `#`. */
export function pathOf(target: string): string {
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}

interface PathRule {
  readonly url: string | RegExp;
  readonly methods: readonly string[] | undefined;
}

function listOf<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function checkPath(rule: unknown): PathRule {
  if (typeof rule === "string" || rule instanceof RegExp) return { url: checkUrl(rule), methods: undefined };
  if (rule !== null && typeof rule === "object" && "url" in rule && "methods" in rule && Array.isArray(rule.methods)) {
    return {
      url: checkUrl(rule.url),
      methods: (rule.methods as unknown[]).map((method) => upper(method, "`unless` path methods")),
    };
  }
  throw new ConfigError(
    `\`unless({ path })\` takes strings, regular expressions or { url, methods }, got ${JSON.stringify(rule)}.`,
  );
}

function checkUrl(url: unknown): string | RegExp {
  if (url instanceof RegExp) return url;
  if (typeof url === "string" && url.startsWith("/")) return url;
  throw new ConfigError(`\`unless\`: a path is a string starting with "/" or a RegExp, got ${JSON.stringify(url)}.`);
}

function upper(method: unknown, what: string): string {
  if (typeof method !== "string" || !/^[A-Za-z]+$/.test(method)) {
    throw new ConfigError(`${what}: ${JSON.stringify(method)} is not an HTTP method.`);
  }
  return method.toUpperCase();
}

function matches(url: string | RegExp, path: string): boolean {
  if (typeof url === "string") return url === path;
  url.lastIndex = 0; // a global or sticky expression keeps where it stopped
  return url.test(path);
}
