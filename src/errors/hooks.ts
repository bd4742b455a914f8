import { ConfigError } from "./errors.js";
import { bounded } from "./text.js";

// The app's own observers (onFailure, onSuccess, a revocation list's onError) log or count; they
// never change the answer. A throw, or a promise that rejects (an async hook whose backend failed),
// is caught: unhandled, one refused request would take the process down.

const WARNED = new WeakSet();

/** Checks hooks at start-up: each absent or a function. */
export function checkHooks(names: string, ...hooks: unknown[]): void {
  if (hooks.some((hook) => hook !== undefined && typeof hook !== "function")) {
    throw new ConfigError(`${names} must be functions.`);
  }
}

/**
 * Calls `hook(...args)` for its side effects: a throw or a rejected promise is caught and told once
 * per hook, as a process warning (`BEARER_GATE_HOOK_FAILED`) naming it; the result is never awaited.
 */
export function observe<A extends unknown[]>(name: string, hook: (...args: A) => unknown, ...args: A): void {
  try {
    const result = hook(...args);
    if (typeof result === "object" && result !== null && typeof (result as { then?: unknown }).then === "function") {
      (result as PromiseLike<unknown>).then(undefined, (error: unknown) => failed(name, hook, error));
    }
  } catch (error) {
    failed(name, hook, error);
  }
}

function failed(name: string, hook: object, error: unknown): void {
  if (WARNED.has(hook)) return;
  WARNED.add(hook);
  try {
    const why = error instanceof Error ? error.message : String(error);
    process.emitWarning(
      `bearer-gate: the ${name} hook failed (told once; it never changes the answer): ${bounded(why)}`,
      { code: "BEARER_GATE_HOOK_FAILED" },
    );
  } catch {
    // a warning listener that throws must not reach the request either
  }
}
