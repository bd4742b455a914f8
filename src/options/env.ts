import { readFileSync } from "node:fs";
import { ConfigError } from "../errors/errors.js";
import type { TokenUse } from "../keys/cognito.js";
import type { VerifierOptions } from "./options.js";

/** The environment variables `optionsFromEnv` reads. */
export const ENV_VARIABLES = [
  "JWT_SECRET",
  "JWT_PUBLIC_KEY",
  "COGNITO_USER_POOL_ID",
  "COGNITO_CLIENT_ID",
  "COGNITO_REGION",
  "COGNITO_TOKEN_USE",
  "JWKS_URI",
  "JWT_ISSUER_URL",
  "JWT_ISSUER",
  "JWT_AUDIENCE",
  "JWT_ALLOW_INSECURE_HTTP",
] as const;

type Variable = (typeof ENV_VARIABLES)[number];

// the option each variable gives, as a ConfigError names it
const OPTION_OF: Readonly<Record<Variable, string>> = {
  JWT_SECRET: "secret",
  JWT_PUBLIC_KEY: "publicKey",
  COGNITO_USER_POOL_ID: "cognito.userPoolId",
  COGNITO_CLIENT_ID: "cognito.clientId",
  COGNITO_REGION: "cognito.region",
  COGNITO_TOKEN_USE: "cognito.tokenUse",
  JWKS_URI: "jwksUri",
  JWT_ISSUER_URL: "issuerUrl",
  JWT_ISSUER: "issuer",
  JWT_AUDIENCE: "audience",
  JWT_ALLOW_INSECURE_HTTP: "allowInsecureHttp",
};

// marks the options optionsFromEnv made, as long as they are passed on as they are (not spread)
const FROM_ENV = new WeakSet();

/**
 * Verifier options from environment variables: `JWT_SECRET`; or `JWT_PUBLIC_KEY` (a PEM, or the path
 * of a PEM file); or `JWT_ISSUER_URL` (an OpenID Connect or OAuth issuer, found by discovery); or
 * `COGNITO_USER_POOL_ID` with optional
 * `COGNITO_CLIENT_ID`, `COGNITO_REGION`, `COGNITO_TOKEN_USE`; plus optional `JWKS_URI`, `JWT_ISSUER`
 * and `JWT_AUDIENCE`; `JWT_ALLOW_INSECURE_HTTP=true` for keys over plain http on a private network. Lists (client ids, issuers, audiences) are comma-separated. A variable set but
 * empty (`JWT_AUDIENCE=""`), or a list with an empty item, is an error that names the variable; so
 * is every later complaint about these options when they are passed on as they are.
 * @throws ConfigError naming the variables when none gives a key source, or naming the one that is wrong.
 * @example requireToken(optionsFromEnv(process.env))
 */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): VerifierOptions {
  const poolId = value(env, "COGNITO_USER_POOL_ID");
  const secret = value(env, "JWT_SECRET");
  const jwksUri = value(env, "JWKS_URI");
  const publicKey = value(env, "JWT_PUBLIC_KEY");
  const issuerUrl = value(env, "JWT_ISSUER_URL");
  const sources = [secret, poolId, jwksUri, publicKey, issuerUrl];
  if (sources.every((source) => source === undefined)) {
    const stray = ENV_VARIABLES.filter((name) => env[name] !== undefined);
    throw new ConfigError(
      "no key source configured: set JWT_SECRET, JWT_PUBLIC_KEY, JWT_ISSUER_URL (an OpenID issuer), or " +
        "COGNITO_USER_POOL_ID (with optional COGNITO_CLIENT_ID, COGNITO_REGION, COGNITO_TOKEN_USE), or JWKS_URI; " +
        "JWT_ISSUER and JWT_AUDIENCE are optional. " +
        "Or pass options to requireToken()." +
        (stray.length > 0 ? ` (Set, but no key source among them: ${stray.join(", ")}.)` : ""),
    );
  }
  const options: VerifierOptions = {};
  if (secret !== undefined) options.secret = secret;
  if (jwksUri !== undefined) options.jwksUri = jwksUri;
  if (publicKey !== undefined) options.publicKey = pemOf(publicKey);
  if (issuerUrl !== undefined) options.issuerUrl = issuerUrl;
  if (poolId !== undefined) {
    options.cognito = {
      userPoolId: poolId,
      region: value(env, "COGNITO_REGION"),
      clientId: list(env, "COGNITO_CLIENT_ID"),
      tokenUse: value(env, "COGNITO_TOKEN_USE") as TokenUse | undefined, // checked with the other options
    };
  } else {
    const alone = (["COGNITO_CLIENT_ID", "COGNITO_REGION", "COGNITO_TOKEN_USE"] as const).filter(
      (name) => env[name] !== undefined,
    );
    if (alone.length > 0) {
      throw new ConfigError(
        `${alone.join(" and ")} ${alone.length === 1 ? "goes" : "go"} with COGNITO_USER_POOL_ID, which is not set.`,
      );
    }
  }
  options.issuer = list(env, "JWT_ISSUER");
  options.audience = list(env, "JWT_AUDIENCE");
  const insecure = value(env, "JWT_ALLOW_INSECURE_HTTP");
  if (insecure !== undefined) {
    if (insecure !== "true" && insecure !== "false") {
      throw new ConfigError(`JWT_ALLOW_INSECURE_HTTP=${JSON.stringify(insecure)} must be true or false.`);
    }
    options.allowInsecureHttp = insecure === "true";
  }
  FROM_ENV.add(options);
  return options;
}

/**
 * Runs `build` on `options`; a ConfigError about options that `optionsFromEnv` made is told in the
 * variables' names, as the user wrote them (`JWT_AUDIENCE`, not `audience`). Other errors, and
 * other options, pass unchanged.
 */
export function inEnvTerms<T>(options: object, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof ConfigError) || !FROM_ENV.has(options)) throw error;
    let message = error.message.replace(/^bearer-gate: /, "");
    // the longest option names first: `cognito.userPoolId` before `cognito`
    for (const [variable, option] of Object.entries(OPTION_OF).sort(([, a], [, b]) => b.length - a.length)) {
      message = message.split(`\`${option}\``).join(`\`${variable}\``);
    }
    throw new ConfigError(`in the environment: ${message}`);
  }
}

function value(env: Readonly<Record<string, string | undefined>>, name: Variable): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  if (raw.trim() === "") {
    // a secret's value is never repeated, not even a blank one
    const shown = name === "JWT_SECRET" ? name : `${name}=${JSON.stringify(raw)}`;
    throw new ConfigError(`${shown} is set but empty: unset it, or give it a value.`);
  }
  return raw;
}

// JWT_PUBLIC_KEY holds the PEM itself, or the path of a file that does
function pemOf(value: string): string {
  if (value.includes("-----BEGIN")) return value.replace(/\\n/g, "\n"); // a PEM with \n for its line breaks, as .env files write it
  try {
    return readFileSync(value, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(
      `JWT_PUBLIC_KEY is neither a PEM public key ("-----BEGIN PUBLIC KEY-----...") nor a file that can be read ` +
        `(${JSON.stringify(value)}: ${typeof code === "string" ? code : "unreadable"}).`,
    );
  }
}

function list(env: Readonly<Record<string, string | undefined>>, name: Variable): string[] | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  const items = raw.split(",").map((item) => item.trim());
  if (items.includes("")) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} has an empty item: give one value, or several separated by commas ("a,b").`,
    );
  }
  return items;
}
