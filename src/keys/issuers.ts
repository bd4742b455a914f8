import { quote, TokenError } from "../errors/errors.js";

/**
 * The key sources of a verifier, found by a token's `iss`: the fixed ones (one key set, Cognito
 * pools, `issuers`), and those `resolveIssuer` answers at run time, kept up to a bound (the least
 * recently used dropped). Each has a number the token cache keeps; a dropped one's number is never
 * used again, so a cached verification under it is never taken.
 */
export class IssuerRegistry<S> {
  readonly #fixed: readonly S[];
  readonly #byIssuer: ReadonlyMap<string, number>;
  readonly #resolve: ((iss: string) => S | undefined | Promise<S | undefined>) | undefined;
  readonly #max: number;
  // iss → number, least recently used first
  readonly #resolved = new Map<string, number>();
  readonly #byNumber = new Map<number, S>();
  // one resolveIssuer call per iss at a time
  readonly #pending = new Map<string, Promise<number>>();
  #next: number;

  constructor(
    fixed: readonly S[],
    issuersOf: (source: S) => Iterable<string>,
    resolve: ((iss: string) => S | undefined | Promise<S | undefined>) | undefined,
    max: number,
  ) {
    this.#fixed = fixed;
    this.#byIssuer = new Map(fixed.flatMap((source, at) => [...issuersOf(source)].map((iss) => [iss, at] as const)));
    this.#resolve = resolve;
    this.#max = max;
    this.#next = fixed.length;
  }

  /** Whether every token goes to the one fixed source, whatever its `iss`. */
  get single(): boolean {
    return this.#fixed.length === 1 && this.#resolve === undefined;
  }

  /** The source with this number, or `undefined` once it was dropped. */
  get(at: number): S | undefined {
    return at < this.#fixed.length ? this.#fixed[at] : this.#byNumber.get(at);
  }

  /** The fixed sources and those resolved now: for `ready()` and `status()`. */
  fixed(): readonly S[] {
    return this.#fixed;
  }

  resolved(): readonly S[] {
    return [...this.#byNumber.values()];
  }

  /**
   * The number of the source for a token's `iss`: a fixed one, one resolved before, or what
   * `resolveIssuer` answers now. An `iss` nobody accepts is `wrong_issuer`, with no download.
   */
  find(iss: string | undefined): number | Promise<number> {
    const fixed = iss === undefined ? undefined : this.#byIssuer.get(iss);
    if (fixed !== undefined) return fixed;
    if (iss === undefined || this.#resolve === undefined) return refuse(iss);
    const known = this.#resolved.get(iss);
    if (known !== undefined) {
      // used: to the end of the line
      this.#resolved.delete(iss);
      this.#resolved.set(iss, known);
      return known;
    }
    const pending = this.#pending.get(iss);
    if (pending !== undefined) return pending;
    const answer = this.#resolve(iss);
    if (!(answer instanceof Promise)) return this.#keep(iss, answer);
    const waiting = answer.then((source) => this.#keep(iss, source));
    this.#pending.set(iss, waiting);
    const done = (): void => void this.#pending.delete(iss);
    waiting.then(done, done);
    return waiting;
  }

  #keep(iss: string, source: S | undefined): number {
    if (source === undefined) return refuse(iss);
    const at = this.#next++;
    this.#resolved.set(iss, at);
    this.#byNumber.set(at, source);
    if (this.#resolved.size > this.#max) {
      const [oldest, number] = this.#resolved.entries().next().value as [string, number];
      this.#resolved.delete(oldest);
      this.#byNumber.delete(number);
    }
    return at;
  }
}

function refuse(iss: string | undefined): never {
  throw new TokenError("wrong_issuer", undefined, { cause: new Error(`iss ${quote(iss)} is no accepted issuer's`) });
}
