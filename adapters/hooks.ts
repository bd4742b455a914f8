import { ConfigError } from "../src/index.js";

// What both adapters do with the onFailure and onSuccess hooks: check them at startup, and call
// them so that a logging or metrics hook never changes the answer, even when it throws.

export function checkHooks(...hooks: unknown[]): void {
  if (hooks.some((hook) => hook !== undefined && typeof hook !== "function")) {
    throw new ConfigError("`onFailure` and `onSuccess` must be functions.");
  }
}

export function observe(hook: () => void): void {
  try {
    hook();
  } catch {
    // ignored on purpose: see above
  }
}
