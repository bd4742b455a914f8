import { ConfigError, createVerifier, type VerifierOptions } from "bearer-gate";
import { thrownBy } from "../helpers.js";

const pool = { userPoolId: "sa-east-1_6ygLpRK0e" };

describe("createVerifier options", () => {
  it.each<[string, VerifierOptions]>([
    ["no key source", {}],
    ["two key sources", { secret: "s3cret", jwksUri: "https://example.test/jwks.json" }],
    ["secret and cognito", { secret: "s3cret", cognito: pool }],
    ["an empty secret", { secret: "" }],
    ["a whitespace secret", { secret: "   " }],
    ["an empty Buffer secret", { secret: Buffer.alloc(0) }],
    ["alg none", { secret: "s3cret", algorithms: ["none" as "HS256"] }],
    ["RS256 with a secret", { secret: "s3cret", algorithms: ["RS256"] }],
    ["HS256 with a key set", { jwksUri: "https://example.test/jwks.json", algorithms: ["HS256"] }],
    ["mixed algorithms", { jwksUri: "https://example.test/jwks.json", algorithms: ["RS256", "HS256"] }],
    ["no algorithms", { secret: "s3cret", algorithms: [] }],
    ["a bad pool id", { cognito: { userPoolId: "not-a-pool" } }],
    ["a bad region", { cognito: { ...pool, region: "mars" } }],
    ["a bad tokenUse", { cognito: { ...pool, tokenUse: "refresh" as "access" } }],
    ["an empty clientId list", { cognito: { ...pool, clientId: [] } }],
    ["a jwksUri that is not a URL", { jwksUri: "jwks.json" }],
    ["a jwksUri that is not http", { jwksUri: "file:///etc/passwd" }],
    ["a negative clockTolerance", { secret: "s3cret", clockTolerance: -1 }],
    ["a fractional maxTokenLength", { secret: "s3cret", maxTokenLength: 10.5 }],
    ["an empty issuer", { secret: "s3cret", issuer: "" }],
    ["an empty audience list", { secret: "s3cret", audience: [] }],
    ["an object required claim", { secret: "s3cret", requiredClaims: { a: {} as string } }],
    ["an empty scopeClaim", { secret: "s3cret", scopeClaim: "" }],
    ["a clock that is not a function", { secret: "s3cret", clock: 5 as unknown as () => number }],
    ["a misspelt option", { secret: "s3cret", audiance: "x" } as VerifierOptions],
    [
      "a misspelt jwksFetch option",
      { jwksUri: "https://example.test/j", jwksFetch: { timeout: 5 } } as VerifierOptions,
    ],
    ["a zero fetch timeout", { jwksUri: "https://example.test/j", jwksFetch: { timeoutMs: 0 } }],
  ])("refuses %s at construction with a ConfigError", (_name, options) => {
    const error = thrownBy(() => createVerifier(options));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^bearer-gate: /);
  });

  it.each<[string, VerifierOptions]>([
    ["a secret", { secret: "s3cret" }],
    ["a Buffer secret with HS512", { secret: Buffer.from("s3cret"), algorithms: ["HS512"] }],
    ["a Cognito pool", { cognito: { ...pool, clientId: ["a", "b"], tokenUse: "any" } }],
    ["a Cognito pool with a local jwksUri", { cognito: pool, jwksUri: "http://127.0.0.1:1/jwks.json" }],
    ["a JWKS with ES256 and RS256", { jwksUri: "https://example.test/jwks.json", algorithms: ["ES256", "RS256"] }],
  ])("accepts %s", (_name, options) => {
    expect(createVerifier(options)).toHaveProperty("verify");
  });
});
