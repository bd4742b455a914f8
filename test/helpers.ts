import { TokenError } from "bearer-gate";

/** What a promise rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<TokenError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenError) return error;
    throw new Error(`rejected with something other than a TokenError: ${String(error)}`, { cause: error });
  }
  throw new Error("resolved, but a rejection was expected");
}

/** What a function threw; fails the test if it returned. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("returned, but a throw was expected");
}

/** Runs `fn` with the key-source variables replaced by `env`, then restores the environment. */
export async function withKeyEnv<T>(env: Record<string, string>, fn: () => T | Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const name of ["JWT_SECRET", "COGNITO_USER_POOL_ID", "JWKS_URI"]) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    process.env = saved;
  }
}

/**
 * Runs `probe` until it stops throwing, or rethrows its last error after `timeoutMs`: for what a
 * background task (a key-set refresh) makes true a moment later.
 */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
