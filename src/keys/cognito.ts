import { plainObject, rejectUnknown } from "../options/check.js";
import { ConfigError } from "../errors/errors.js";

/** Which Cognito tokens a verifier accepts: `token_use` must match (`any` takes access and ID). */
export type TokenUse = "access" | "id" | "any";

/** An Amazon Cognito user pool as the verifier's key source. */
export interface CognitoOptions {
  /** The pool id, e.g. `sa-east-1_6ygLpRK0e`. */
  userPoolId: string;
  /** Defaults to the pool id's prefix (`sa-east-1`). */
  region?: string | undefined;
  /** App client id(s): matched against `client_id` (access tokens) or `aud` (ID tokens). */
  clientId?: string | readonly string[] | undefined;
  /** Default `"access"`. */
  tokenUse?: TokenUse | undefined;
  /** This pool's key set, where it is not AWS's (an emulator's); in a list of pools, each its own. */
  jwksUri?: string | undefined;
  /** This pool's issuer, where it is not AWS's (an emulator's); in a list of pools, each its own. */
  issuer?: string | undefined;
}

/** What a pool id implies: who issues its tokens and where its keys are (unknown off AWS). */
export interface CognitoPool {
  readonly userPoolId: string;
  readonly issuers: readonly string[] | undefined;
  readonly jwksUri: string | undefined;
  readonly tokenUse: TokenUse;
  readonly clientIds: readonly string[] | undefined;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
// the pattern AWS documents for a user pool id; emulators use other prefixes (`local_2kDafjrN`)
const POOL_ID = /^([\w-]+)_[0-9a-zA-Z]+$/;
const TOKEN_USES: readonly TokenUse[] = ["access", "id", "any"];
const KNOWN_OPTIONS = ["userPoolId", "region", "clientId", "tokenUse", "jwksUri", "issuer"];

/**
 * Derives the issuers and the JWKS URL of a Cognito user pool, checking every field. A pool id
 * whose prefix is not an AWS region (an emulator's) needs `jwksUri` and `issuer` beside it.
 */
export function describePool(
  input: CognitoOptions,
  beside: { jwksUri: boolean; issuer: boolean },
  name = "cognito",
): CognitoPool {
  rejectUnknown(plainObject(input, name), KNOWN_OPTIONS, `\`${name}\``);
  const { userPoolId, region: givenRegion, clientId, tokenUse = "access" } = input;
  // the pool's own jwksUri and issuer, or those beside `cognito`
  const given = {
    jwksUri: beside.jwksUri || input.jwksUri !== undefined,
    issuer: beside.issuer || input.issuer !== undefined,
  };
  const prefix = typeof userPoolId === "string" ? POOL_ID.exec(userPoolId)?.[1] : undefined;
  if (prefix === undefined) {
    throw new ConfigError(
      `\`${name}.userPoolId\` must look like "sa-east-1_6ygLpRK0e", got ${JSON.stringify(userPoolId)}.`,
    );
  }
  if (givenRegion !== undefined && (typeof givenRegion !== "string" || !REGION.test(givenRegion))) {
    throw new ConfigError(`\`${name}.region\` must look like "sa-east-1", got ${JSON.stringify(givenRegion)}.`);
  }
  const region = givenRegion ?? (REGION.test(prefix) ? prefix : undefined);
  if (region === undefined && !(given.jwksUri && given.issuer)) {
    throw new ConfigError(
      `\`${name}.userPoolId\` ${JSON.stringify(userPoolId)} does not start with an AWS region, so its keys and ` +
        `issuer cannot be derived: give \`jwksUri\` and \`issuer\` (an emulator's), or \`${name}.region\`.`,
    );
  }
  if (!TOKEN_USES.includes(tokenUse)) {
    throw new ConfigError(`\`${name}.tokenUse\` must be "access", "id" or "any", got ${JSON.stringify(tokenUse)}.`);
  }
  const issuer = region === undefined ? undefined : `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  return {
    userPoolId,
    // pools with multi-region replication also issue from the issuer-cognito-idp host
    issuers:
      input.issuer !== undefined
        ? stringList(input.issuer, `${name}.issuer`)
        : issuer === undefined
          ? undefined
          : [issuer, `https://issuer-cognito-idp.${String(region)}.amazonaws.com/${userPoolId}`],
    jwksUri: input.jwksUri ?? (issuer === undefined ? undefined : `${issuer}/.well-known/jwks.json`),
    tokenUse,
    clientIds: clientId === undefined ? undefined : stringList(clientId, `${name}.clientId`),
  };
}

/** A non-empty list of non-empty strings from a string or a list, or a ConfigError naming `option`. */
export function stringList(value: unknown, option: string): readonly string[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((item) => typeof item === "string" && item.trim() !== "")) {
    throw new ConfigError(`\`${option}\` must be a non-empty string or a non-empty list of them.`);
  }
  return Object.freeze(list as string[]);
}

/**
 * One pool, or a list of them (each matched to its tokens by `iss`): every pool described and
 * checked, no two sharing an issuer. A list's pools carry their own `jwksUri` and `issuer` where
 * they need them; the top-level ones would be ambiguous.
 */
export function describePools(
  input: CognitoOptions | readonly CognitoOptions[],
  given: { jwksUri: boolean; issuer: boolean },
): readonly CognitoPool[] {
  if (!Array.isArray(input)) return [describePool(input as CognitoOptions, given)];
  const list = input as readonly CognitoOptions[];
  if (list.length === 0) throw new ConfigError("`cognito` must name at least one user pool.");
  if (list.length > 1 && (given.jwksUri || given.issuer)) {
    const beside = [given.jwksUri ? "`jwksUri`" : "", given.issuer ? "`issuer`" : ""].filter(Boolean).join(" and ");
    throw new ConfigError(
      `with several user pools, ${beside} beside \`cognito\` would be every pool's: move ${given.jwksUri && given.issuer ? "them" : "it"} ` +
        "into the pool it belongs to, as in `cognito: [{ userPoolId, clientId, jwksUri, issuer }, { userPoolId, clientId }]`.",
    );
  }
  const pools = list.map((pool, i) => describePool(pool, given, `cognito[${i}]`));
  const seen = new Map<string, string>();
  for (const pool of pools) {
    for (const issuer of pool.issuers ?? []) {
      const other = seen.get(issuer);
      if (other !== undefined) {
        throw new ConfigError(
          `\`cognito\`: pools ${other} and ${pool.userPoolId} share the issuer ${issuer}, so a token could not be ` +
            "told apart: one pool with both client ids (`clientId: [...]`) is what one issuer means; " +
            "or give each pool the `issuer` its tokens really carry.",
        );
      }
      seen.set(issuer, pool.userPoolId);
    }
  }
  return pools;
}
