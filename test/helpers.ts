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
