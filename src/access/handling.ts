import type { ChallengeOptions } from "../errors/response.js";

// How a requireToken answers failures, left on each request it passed, so the guards after it
// answer the same way: one shape for both adapters, `Hook` being each framework's onFailure.

/** What a gate's challenges add (resource metadata, DPoP) for a request's Authorization header. */
export type Challenger = (authorization: string | readonly string[] | undefined) => ChallengeOptions | undefined;

export interface Handling<Hook> {
  readonly respond: boolean;
  readonly onFailure: Hook | undefined;
  readonly challenge: Challenger | undefined;
}

/** How a guard answers when no requireToken of this package came before it. */
export const ANSWER: Handling<never> = Object.freeze({ respond: true, onFailure: undefined, challenge: undefined });

/** The key of a request's Handling: a symbol both builds (ESM and CommonJS) share. */
export const HANDLING = Symbol.for("bearer-gate.handling");

/** A request or context that may carry its gate's Handling. */
export type Handled<Hook> = { [HANDLING]?: Handling<Hook> };
