import { ConfigError, createVerifier, type VerifierOptions } from "bearer-gate";
import { thrownBy } from "../helpers.js";

const pool = { userPoolId: "sa-east-1_6ygLpRK0e" };
const SECRET = "a-secret-of-thirty-two-bytes-abc"; // 32 bytes: HS256's minimum

describe("createVerifier options", () => {
  it.each<[string, VerifierOptions]>([
    ["no key source", {}],
    ["two key sources", { secret: SECRET, jwksUri: "https://example.test/jwks.json" }],
    ["secret and cognito", { secret: SECRET, cognito: pool }],
    ["an empty secret", { secret: "" }],
    ["a whitespace secret", { secret: "   " }],
    ["an empty Buffer secret", { secret: Buffer.alloc(0) }],
    ["alg none", { secret: SECRET, algorithms: ["none" as "HS256"] }],
    ["RS256 with a secret", { secret: SECRET, algorithms: ["RS256"] }],
    ["HS256 with a key set", { jwksUri: "https://example.test/jwks.json", algorithms: ["HS256"] }],
    ["mixed algorithms", { jwksUri: "https://example.test/jwks.json", algorithms: ["RS256", "HS256"] }],
    ["no algorithms", { secret: SECRET, algorithms: [] }],
    ["a bad pool id", { cognito: { userPoolId: "not-a-pool" } }],
    ["a bad region", { cognito: { ...pool, region: "mars" } }],
    ["a bad tokenUse", { cognito: { ...pool, tokenUse: "refresh" as "access" } }],
    ["an empty clientId list", { cognito: { ...pool, clientId: [] } }],
    ["a jwksUri that is not a URL", { jwksUri: "jwks.json" }],
    ["a jwksUri that is not http", { jwksUri: "file:///etc/passwd" }],
    ["a negative clockTolerance", { secret: SECRET, clockTolerance: -1 }],
    ["a fractional maxTokenLength", { secret: SECRET, maxTokenLength: 10.5 }],
    ["an empty issuer", { secret: SECRET, issuer: "" }],
    ["an empty audience list", { secret: SECRET, audience: [] }],
    ["an object required claim", { secret: SECRET, requiredClaims: { a: {} as string } }],
    ["an empty scopeClaim", { secret: SECRET, scopeClaim: "" }],
    ["a clock that is not a function", { secret: SECRET, clock: 5 as unknown as () => number }],
    ["a misspelt option", { secret: SECRET, audiance: "x" } as VerifierOptions],
    ["a clockTolerance over 300 s", { secret: SECRET, clockTolerance: 301 }],
    ["a whitespace Buffer secret", { secret: Buffer.from(" \t\r\n".repeat(16)) }],
    ["a 31-byte secret for HS256", { secret: "x".repeat(31) }],
    ["a 32-byte secret for HS384", { secret: SECRET, algorithms: ["HS384"] }],
    ["a 48-byte secret allowing HS512", { secret: "x".repeat(48), algorithms: ["HS256", "HS512"] }],
    ["a pool id off AWS without jwksUri", { cognito: { userPoolId: "local_2kDafjrN" } }],
    [
      "a pool id off AWS without issuer",
      { cognito: { userPoolId: "local_2kDafjrN" }, jwksUri: "http://127.0.0.1:1/j" },
    ],
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
    ["a secret", { secret: SECRET }],
    ["a Buffer secret with HS512", { secret: Buffer.alloc(64, 7), algorithms: ["HS512"] }],
    ["a 48-byte secret with HS384", { secret: "y".repeat(48), algorithms: ["HS384"] }],
    ["a clockTolerance of 300 s", { secret: SECRET, clockTolerance: 300 }],
    [
      "an emulator's pool id with its jwksUri and issuer",
      {
        cognito: { userPoolId: "local_2kDafjrN" },
        jwksUri: "http://127.0.0.1:9229/j",
        issuer: "http://127.0.0.1:9229/local_2kDafjrN",
      },
    ],
    ["a pool id off AWS with a region", { cognito: { userPoolId: "local_2kDafjrN", region: "eu-west-1" } }],
    ["a Cognito pool", { cognito: { ...pool, clientId: ["a", "b"], tokenUse: "any" } }],
    ["a Cognito pool with a local jwksUri", { cognito: pool, jwksUri: "http://127.0.0.1:1/jwks.json" }],
    ["a JWKS with ES256 and RS256", { jwksUri: "https://example.test/jwks.json", algorithms: ["ES256", "RS256"] }],
  ])("accepts %s", (_name, options) => {
    expect(createVerifier(options)).toHaveProperty("verify");
  });
});

describe("what a misconfiguration says", () => {
  const message = (options: unknown): string =>
    (thrownBy(() => createVerifier(options as VerifierOptions)) as Error).message;

  it.each<[string, unknown, string]>([
    [
      "a misspelt key inside cognito",
      { cognito: { ...pool, clientID: "web" } },
      "unknown `cognito` option(s): `clientID` (did you mean `clientId`?).",
    ],
    ["a misspelt top-level option", { secret: SECRET, audiance: "x" }, "`audiance` (did you mean `audience`?)"],
    [
      "a misspelt jwksFetch option",
      { jwksUri: "https://a.test/j", jwksFetch: { timeout: 1 } },
      "`timeout` (did you mean `timeoutMs`?)",
    ],
    [
      "a misspelt tokenCache option",
      { secret: SECRET, tokenCache: { maxEntry: 1 } },
      "`maxEntry` (did you mean `maxEntries`?)",
    ],
    ["a name nothing is near", { secret: SECRET, banana: 1 }, "unknown option(s): `banana`."],
    ["the same pool twice", { cognito: [pool, pool] }, "share the issuer"],
    ["cognito as a string", { cognito: "sa-east-1_6ygLpRK0e" }, "`cognito` must be one object"],
    ["jwksFetch as a list", { jwksUri: "https://a.test/j", jwksFetch: [] }, "`jwksFetch` must be one object"],
    ["a secret left undefined", { secret: undefined }, "`secret` is undefined (is the environment variable"],
    [
      "a secret and a pool left undefined",
      { secret: undefined, cognito: undefined },
      "`secret` and `cognito` are undefined",
    ],
    ["no key source at all", {}, "no key source: give `secret`, `publicKey`, `cognito`, `jwksUri` or `issuerUrl`."],
    ["a short secret", { secret: "short" }, "`secret` is 5 bytes; HS256 needs at least 32 (RFC 7518 §3.2)"],
    ["a short secret, and the way out", { secret: "short" }, "Make one with `openssl rand -base64 32`."],
    ["a whitespace Buffer", { secret: Buffer.from("   ") }, "`secret` is empty or only whitespace."],
    ["an emulator pool without its URLs", { cognito: { userPoolId: "local_2kDafjrN" } }, "give `jwksUri` and `issuer`"],
    [
      "a pool id AWS would not accept",
      { cognito: { userPoolId: "eu-west-1-abc" } },
      "`cognito.userPoolId` must look like",
    ],
  ])("names the problem: %s", (_name, options, expected) => {
    expect(message(options)).toContain(expected);
  });

  it("accepts a short secret with allowShortSecret, and warns at construction", () => {
    const spy = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      expect(createVerifier({ secret: "short", allowShortSecret: true })).toHaveProperty("verify");
      expect(spy.mock.calls).toEqual([
        [expect.stringContaining("`secret` is 5 bytes"), { code: "BEARER_GATE_SHORT_SECRET" }],
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});
