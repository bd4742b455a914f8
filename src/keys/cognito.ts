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

/** What a pool id implies: who issues its tokens and where its keys are. */
export interface CognitoPool {
  readonly issuers: readonly string[];
  readonly jwksUri: string;
  readonly tokenUse: TokenUse;
  readonly clientIds: readonly string[] | undefined;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[A-Za-z0-9]+$/;
const TOKEN_USES: readonly TokenUse[] = ["access", "id", "any"];

/** Derives the issuers and the JWKS URL of a Cognito user pool, checking every field. */
export function describePool(options: CognitoOptions): CognitoPool {
  const { userPoolId, region: givenRegion, clientId, tokenUse = "access" } = options;
  const prefix = typeof userPoolId === "string" ? POOL_ID.exec(userPoolId)?.[1] : undefined;
  if (prefix === undefined) {
    throw new ConfigError(
      `\`cognito.userPoolId\` must look like "sa-east-1_6ygLpRK0e", got ${JSON.stringify(userPoolId)}.`,
    );
  }
  const region = givenRegion ?? prefix;
  if (typeof region !== "string" || !REGION.test(region)) {
    throw new ConfigError(`\`cognito.region\` must look like "sa-east-1", got ${JSON.stringify(region)}.`);
  }
  if (!TOKEN_USES.includes(tokenUse)) {
    throw new ConfigError(`\`cognito.tokenUse\` must be "access", "id" or "any", got ${JSON.stringify(tokenUse)}.`);
  }
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  return {
    // pools with multi-region replication also issue from the issuer-cognito-idp host
    issuers: [issuer, `https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`],
    jwksUri: `${issuer}/.well-known/jwks.json`,
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
