import { ConfigError } from "../errors/errors.js";
import { stringList } from "../keys/cognito.js";
import { openIdConfigurationUrl, type JwksSettings } from "../keys/jwks.js";
import { fn, number, plainObject, rejectUnknown } from "./check.js";
import { checkIssuerUrl, checkUrl } from "./urls.js";

/**
 * One issuer of several (`issuers`, or what `resolveIssuer` answers): an OpenID Connect or OAuth
 * issuer found by discovery (`issuerUrl`), or an `issuer` with its `jwksUri`; and the audience its
 * tokens must name, when it differs from the verifier's.
 */
export interface IssuerOptions {
  /** The issuer, its key set found by discovery (as the top-level `issuerUrl`). */
  issuerUrl?: string | undefined;
  /** The issuer (`iss`), exactly, with `jwksUri`: no discovery. */
  issuer?: string | undefined;
  /** Its key set, with `issuer`. */
  jwksUri?: string | undefined;
  /** The audience its tokens must name; default the verifier's `audience`. */
  audience?: string | readonly string[] | undefined;
}

/** An issuer once checked: its `iss`, its key set and its audiences. */
export interface IssuerPolicy {
  readonly issuer: string;
  readonly audiences: ReadonlySet<string> | undefined;
  readonly keySource: { readonly kind: "jwks" } & JwksSettings;
}

/** `issuers`, `resolveIssuer` and `maxIssuers`, checked. */
export interface IssuersPolicy {
  readonly entries: readonly IssuerPolicy[];
  /** Checks what `resolveIssuer` answered for an `iss`: a `ConfigError` when it is not an entry for that `iss`. */
  readonly resolve: ((iss: string) => IssuerPolicy | undefined | Promise<IssuerPolicy | undefined>) | undefined;
  /** At most this many resolved issuers' key sets are kept; the least recently used goes. */
  readonly maxResolved: number;
}

type Fetching = Omit<JwksSettings, "uri" | "discoveryIssuer">;

const ENTRY_OPTIONS = ["issuerUrl", "issuer", "jwksUri", "audience"];

/** Checks `issuers` and `resolveIssuer` once, at construction; `undefined` when neither is given. */
export function issuersPolicy(
  input: {
    readonly issuers?: unknown;
    readonly resolveIssuer?: unknown;
    readonly maxIssuers?: unknown;
  },
  audiences: ReadonlySet<string> | undefined,
  fetching: Fetching,
): IssuersPolicy | undefined {
  if (input.issuers === undefined && input.resolveIssuer === undefined) {
    if (input.maxIssuers !== undefined) throw new ConfigError("`maxIssuers` goes with `resolveIssuer`.");
    return undefined;
  }
  const list = input.issuers ?? [];
  if (!Array.isArray(list) || (input.resolveIssuer === undefined && list.length === 0)) {
    throw new ConfigError("`issuers` must be a non-empty list of `{ issuerUrl }` or `{ issuer, jwksUri }`.");
  }
  const entries = (list as unknown[]).map((entry, at) => issuerPolicy(entry, `issuers[${at}]`, audiences, fetching));
  const seen = new Set<string>();
  for (const { issuer } of entries) {
    if (seen.has(issuer)) throw new ConfigError(`\`issuers\` names ${JSON.stringify(issuer)} twice.`);
    seen.add(issuer);
  }
  const resolveIssuer = fn(input.resolveIssuer as ((iss: string) => unknown) | undefined, "resolveIssuer");
  const maxResolved = number(input.maxIssuers, "maxIssuers", 50, { min: 1, max: 10_000, integer: true });
  return Object.freeze({
    entries,
    maxResolved,
    resolve:
      resolveIssuer === undefined
        ? undefined
        : (iss: string) => {
            const answer = resolveIssuer(iss);
            const check = (entry: unknown): IssuerPolicy | undefined =>
              entry === undefined || entry === null ? undefined : resolved(entry, iss, audiences, fetching);
            return answer instanceof Promise ? answer.then(check) : check(answer);
          },
  });
}

// what resolveIssuer answered for `iss`: an entry for that very issuer, or the app's mistake
function resolved(entry: unknown, iss: string, audiences: ReadonlySet<string> | undefined, fetching: Fetching) {
  const policy = issuerPolicy(entry, `resolveIssuer(${JSON.stringify(iss)})`, audiences, fetching);
  if (policy.issuer !== iss) {
    throw new ConfigError(
      `resolveIssuer(${JSON.stringify(iss)}) answered the entry of another issuer, ${JSON.stringify(policy.issuer)}.`,
    );
  }
  return policy;
}

function issuerPolicy(
  entry: unknown,
  where: string,
  audiences: ReadonlySet<string> | undefined,
  fetching: Fetching,
): IssuerPolicy {
  const input = plainObject(entry, where) as IssuerOptions;
  rejectUnknown(input, ENTRY_OPTIONS, `\`${where}\``);
  const audience = input.audience === undefined ? audiences : new Set(stringList(input.audience, `${where}.audience`));
  if (input.issuerUrl !== undefined) {
    if (input.issuer !== undefined || input.jwksUri !== undefined) {
      throw new ConfigError(
        `\`${where}\`: \`issuerUrl\` finds the key set and is the issuer; leave out \`issuer\` and \`jwksUri\`.`,
      );
    }
    const issuer = checkIssuerUrl(input.issuerUrl, `${where}.issuerUrl`, fetching.allowInsecureHttp);
    return Object.freeze({
      issuer,
      audiences: audience,
      keySource: { kind: "jwks" as const, uri: openIdConfigurationUrl(issuer), discoveryIssuer: issuer, ...fetching },
    });
  }
  if (typeof input.issuer !== "string" || input.issuer === "" || input.jwksUri === undefined) {
    throw new ConfigError(`\`${where}\` must be \`{ issuerUrl }\`, or \`{ issuer, jwksUri }\`.`);
  }
  const uri = checkUrl(input.jwksUri, `${where}.jwksUri`, fetching.allowInsecureHttp);
  return Object.freeze({
    issuer: input.issuer,
    audiences: audience,
    keySource: { kind: "jwks" as const, uri, ...fetching },
  });
}
