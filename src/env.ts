import { ConfigError } from "./errors.js";
import type { TokenUse } from "./keys/cognito.js";
import type { VerifierOptions } from "./options.js";

/** The environment variables `optionsFromEnv` reads. */
export const ENV_VARIABLES = [
  "JWT_SECRET",
  "COGNITO_USER_POOL_ID",
  "COGNITO_CLIENT_ID",
  "COGNITO_REGION",
  "COGNITO_TOKEN_USE",
  "JWKS_URI",
  "JWT_ISSUER",
  "JWT_AUDIENCE",
] as const;

/**
 * Verifier options from environment variables: `JWT_SECRET`; or `COGNITO_USER_POOL_ID` with optional
 * `COGNITO_CLIENT_ID`, `COGNITO_REGION`, `COGNITO_TOKEN_USE`; plus optional `JWKS_URI`, `JWT_ISSUER`
 * and `JWT_AUDIENCE`. Lists (client ids, issuers, audiences) are comma-separated.
 * @throws ConfigError naming the variables when none gives a key source.
 * @example requireToken(optionsFromEnv(process.env))
 */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): VerifierOptions {
  const poolId = env["COGNITO_USER_POOL_ID"];
  const secret = env["JWT_SECRET"];
  const jwksUri = env["JWKS_URI"];
  if (secret === undefined && poolId === undefined && jwksUri === undefined) {
    throw new ConfigError(
      "no key source configured: set JWT_SECRET, or COGNITO_USER_POOL_ID (with optional COGNITO_CLIENT_ID, " +
        "COGNITO_REGION, COGNITO_TOKEN_USE), or JWKS_URI; JWT_ISSUER and JWT_AUDIENCE are optional. " +
        "Or pass options to requireToken().",
    );
  }
  const options: VerifierOptions = {};
  if (secret !== undefined) options.secret = secret;
  if (jwksUri !== undefined) options.jwksUri = jwksUri;
  if (poolId !== undefined) {
    options.cognito = {
      userPoolId: poolId,
      region: env["COGNITO_REGION"],
      clientId: list(env["COGNITO_CLIENT_ID"]),
      tokenUse: env["COGNITO_TOKEN_USE"] as TokenUse | undefined, // checked with the other options
    };
  }
  options.issuer = list(env["JWT_ISSUER"]);
  options.audience = list(env["JWT_AUDIENCE"]);
  return options;
}

function list(value: string | undefined): string[] | undefined {
  return value?.split(",").map((item) => item.trim());
}
