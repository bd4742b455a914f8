import { ConfigError, createVerifier, ENV_VARIABLES, optionsFromEnv } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { thrownBy } from "../helpers.js";

describe("optionsFromEnv", () => {
  it("fails with a message that names every variable when nothing is configured", () => {
    const error = thrownBy(() => optionsFromEnv({}));
    expect(error).toBeInstanceOf(ConfigError);
    for (const name of [
      "JWT_SECRET",
      "COGNITO_USER_POOL_ID",
      "COGNITO_CLIENT_ID",
      "COGNITO_REGION",
      "COGNITO_TOKEN_USE",
      "JWKS_URI",
      "JWT_ISSUER",
      "JWT_AUDIENCE",
    ]) {
      expect((error as Error).message).toContain(name);
    }
  });

  it("reads an HMAC secret with issuer and audience lists", () => {
    expect(optionsFromEnv({ JWT_SECRET: "s", JWT_ISSUER: "a, b", JWT_AUDIENCE: "c" })).toEqual({
      secret: "s",
      issuer: ["a", "b"],
      audience: ["c"],
    });
  });

  it("reads a Cognito pool", () => {
    expect(
      optionsFromEnv({
        COGNITO_USER_POOL_ID: "sa-east-1_6ygLpRK0e",
        COGNITO_CLIENT_ID: "x,y",
        COGNITO_REGION: "sa-east-1",
        COGNITO_TOKEN_USE: "id",
        JWKS_URI: "http://127.0.0.1:9/jwks.json",
      }),
    ).toEqual({
      jwksUri: "http://127.0.0.1:9/jwks.json",
      cognito: { userPoolId: "sa-east-1_6ygLpRK0e", clientId: ["x", "y"], region: "sa-east-1", tokenUse: "id" },
    });
  });
});

describe("configuration errors name the variables the user set", () => {
  const VALID_SECRET = "a-secret-of-at-least-thirty-two-bytes!";
  it.each<[string, Record<string, string>, string]>([
    ["an empty list variable", { JWT_SECRET: VALID_SECRET, JWT_AUDIENCE: "" }, 'JWT_AUDIENCE="" is set but empty'],
    ["a blank issuer", { JWT_SECRET: VALID_SECRET, JWT_ISSUER: "  " }, 'JWT_ISSUER="  " is set but empty'],
    [
      "an empty list item",
      { JWT_SECRET: VALID_SECRET, JWT_AUDIENCE: "api,,web" },
      'JWT_AUDIENCE="api,,web" has an empty item',
    ],
    [
      "a trailing comma",
      { COGNITO_USER_POOL_ID: "sa-east-1_6ygLpRK0e", COGNITO_CLIENT_ID: "web," },
      'COGNITO_CLIENT_ID="web," has an empty item',
    ],
    ["an empty secret, its value never shown", { JWT_SECRET: " " }, "JWT_SECRET is set but empty"],
    [
      "a client id without a pool",
      { JWT_SECRET: VALID_SECRET, COGNITO_CLIENT_ID: "web" },
      "COGNITO_CLIENT_ID goes with COGNITO_USER_POOL_ID, which is not set",
    ],
    ["variables set, none a key source", { JWT_AUDIENCE: "api" }, "(Set, but no key source among them: JWT_AUDIENCE.)"],
  ])("%s", (_case, env, message) => {
    const error = thrownBy(() => optionsFromEnv(env));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
  });

  // what only the verifier can judge, told in the variables' names when the options came from the environment
  it.each<[string, Record<string, string>, string]>([
    ["a short secret", { JWT_SECRET: "short-secret" }, "`JWT_SECRET` is 12 bytes; HS256 needs at least 32"],
    [
      "a malformed pool id",
      { COGNITO_USER_POOL_ID: "my-pool" },
      '`COGNITO_USER_POOL_ID` must look like "sa-east-1_6ygLpRK0e", got "my-pool"',
    ],
    [
      "a wrong token kind",
      { COGNITO_USER_POOL_ID: "sa-east-1_6ygLpRK0e", COGNITO_TOKEN_USE: "refresh" },
      '`COGNITO_TOKEN_USE` must be "access", "id" or "any", got "refresh"',
    ],
    [
      "a region-less pool id",
      { COGNITO_USER_POOL_ID: "local_2kDafjrN" },
      '`COGNITO_USER_POOL_ID` "local_2kDafjrN" does not start with an AWS region, so its keys and issuer cannot be derived: give `JWKS_URI` and `JWT_ISSUER` (an emulator\'s), or `COGNITO_REGION`',
    ],
    ["a JWKS URL that is not one", { JWKS_URI: "keys.json" }, '`JWKS_URI` must be an http(s) URL, got "keys.json"'],
    [
      "a secret beside a key set",
      { JWT_SECRET: VALID_SECRET, JWKS_URI: "http://127.0.0.1:9/jwks.json" },
      "give one key source: `JWT_SECRET`, `JWT_PUBLIC_KEY`, or `cognito` / `JWKS_URI` / `JWT_ISSUER_URL`, not two.",
    ],
  ])("%s, through createVerifier and both adapters' requireToken()", (_case, env, message) => {
    for (const build of [
      () => createVerifier(optionsFromEnv(env)),
      () => expressGate.requireToken(optionsFromEnv(env)),
      () => koaGate.requireToken(optionsFromEnv(env)),
      () => withEnv(env, () => expressGate.requireToken()),
      () => withEnv(env, () => koaGate.requireToken()),
    ]) {
      const error = thrownBy(build);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(`bearer-gate: in the environment: ${message}`);
    }
  });

  it("names options, not variables, once the options are the caller's own", () => {
    const error = thrownBy(() =>
      createVerifier({ ...optionsFromEnv({ JWT_SECRET: "short-secret" }), clockTolerance: 1 }),
    );
    expect((error as Error).message).toMatch(/^bearer-gate: `secret` is 12 bytes/);
  });
});

function withEnv<T>(env: Record<string, string>, run: () => T): T {
  const saved = { ...process.env };
  for (const name of ENV_VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return run();
  } finally {
    for (const name of ENV_VARIABLES) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

describe("JWT_ISSUER_URL", () => {
  it("is an OpenID issuer found by discovery, a key source of its own", () => {
    expect(optionsFromEnv({ JWT_ISSUER_URL: "https://auth.example.com", JWT_AUDIENCE: "api" })).toMatchObject({
      issuerUrl: "https://auth.example.com",
      audience: ["api"],
    });
    expect(() => createVerifier(optionsFromEnv({ JWT_ISSUER_URL: "http://auth.example.com" }))).toThrow(
      /`JWT_ISSUER_URL` is plain http/,
    );
  });
});
