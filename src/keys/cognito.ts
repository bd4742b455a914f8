import { plainObject, rejectUnknown } from "../check.js";
import { ConfigError } from "../errors.js";

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
}

/** What a pool id implies: who issues its tokens and where its keys are (unknown off AWS). */
export interface CognitoPool {
  readonly issuers: readonly string[] | undefined;
  readonly jwksUri: string | undefined;
  readonly tokenUse: TokenUse;
  readonly clientIds: readonly string[] | undefined;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
// the pattern AWS documents for a user pool id; emulators use other prefixes (`local_2kDafjrN`)
const POOL_ID = /^([\w-]+)_[0-9a-zA-Z]+$/;
const TOKEN_USES: readonly TokenUse[] = ["access", "id", "any"];
const KNOWN_OPTIONS = ["userPoolId", "region", "clientId", "tokenUse"];

/**
 * Derives the issuers and the JWKS URL of a Cognito user pool, checking every field. A pool id
 * whose prefix is not an AWS region (an emulator's) needs `jwksUri` and `issuer` beside it.
 */
export function describePool(input: CognitoOptions, given: { jwksUri: boolean; issuer: boolean }): CognitoPool {
  if (Array.isArray(input)) {
    throw new ConfigError("`cognito` must be one object: one user pool per verifier.");
  }
  rejectUnknown(plainObject(input, "cognito"), KNOWN_OPTIONS, "`cognito`");
  const { userPoolId, region: givenRegion, clientId, tokenUse = "access" } = input;
  const prefix = typeof userPoolId === "string" ? POOL_ID.exec(userPoolId)?.[1] : undefined;
  if (prefix === undefined) {
    throw new ConfigError(
      `\`cognito.userPoolId\` must look like "sa-east-1_6ygLpRK0e", got ${JSON.stringify(userPoolId)}.`,
    );
  }
  if (givenRegion !== undefined && (typeof givenRegion !== "string" || !REGION.test(givenRegion))) {
    throw new ConfigError(`\`cognito.region\` must look like "sa-east-1", got ${JSON.stringify(givenRegion)}.`);
  }
  const region = givenRegion ?? (REGION.test(prefix) ? prefix : undefined);
  if (region === undefined && !(given.jwksUri && given.issuer)) {
    throw new ConfigError(
      `\`cognito.userPoolId\` ${JSON.stringify(userPoolId)} does not start with an AWS region, so its keys and ` +
        "issuer cannot be derived: give `jwksUri` and `issuer` (an emulator's), or `cognito.region`.",
    );
  }
  if (!TOKEN_USES.includes(tokenUse)) {
    throw new ConfigError(`\`cognito.tokenUse\` must be "access", "id" or "any", got ${JSON.stringify(tokenUse)}.`);
  }
  const issuer = region === undefined ? undefined : `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  return {
    // pools with multi-region replication also issue from the issuer-cognito-idp host
    issuers:
      issuer === undefined
        ? undefined
        : [issuer, `https://issuer-cognito-idp.${String(region)}.amazonaws.com/${userPoolId}`],
    jwksUri: issuer === undefined ? undefined : `${issuer}/.well-known/jwks.json`,
    tokenUse,
    clientIds: clientId === undefined ? undefined : stringList(clientId, "cognito.clientId"),
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
