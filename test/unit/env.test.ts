import { ConfigError, optionsFromEnv } from "bearer-gate";
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
