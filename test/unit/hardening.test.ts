import { createHmac } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ConfigError, createVerifier, KeySetError, optionsFromEnv, parseGroups, parseScopes } from "bearer-gate";
import { TokenCache } from "../../src/cache.js";
import { decodeJwt } from "../../src/token/decode.js";
import { jwksUriOf } from "../../src/keys/jwks.js";
import { JwksServer, makeKey, type TestKey } from "../fixtures/jwks-server.js";
import { fixedClock, HMAC_SECRET, NOW, rawToken, roomsAccessClaims, signHmac, signRs256 } from "../fixtures/tokens.js";
import { rejectionOf, thrownBy } from "../helpers.js";

// The third outside review's findings in the core, each with plain values in and a TokenError or
// a ConfigError out (issue 18).

// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = "\u001b]52;c;b3duZWQ=\u0007\u001b[2J\rVALID\u007f\u009b\u202e\u2066";

function causeChain(error: unknown): string[] {
  const messages: string[] = [];
  for (let cause = error; typeof cause === "object" && cause !== null;) {
    const { message, cause: next } = cause as { message?: unknown; cause?: unknown };
    if (typeof message === "string") messages.push(message);
    cause = next;
  }
  return messages;
}

let server: JwksServer;
let key: TestKey;
beforeAll(async () => {
  key = makeKey();
  server = await JwksServer.start([key]);
});
afterAll(() => server.close());
beforeEach(() => {
  server.keys = [key];
  server.mode = "serve";
  server.requests = 0;
});

const hmac = { secret: HMAC_SECRET, clock: fixedClock };

describe("text from outside in causes and messages is escaped and bounded", () => {
  it("escapes a kid, an iss and a token_use in a TokenError's cause", async () => {
    const verifier = createVerifier({ jwksUri: server.jwksUri, issuer: "https://issuer.example", clock: fixedClock });
    const unknownKid = rawToken({ alg: "RS256", kid: HOSTILE }, roomsAccessClaims());
    const wrongIss = signRs256(roomsAccessClaims({ iss: HOSTILE }), key);
    for (const token of [unknownKid, wrongIss]) {
      const chain = causeChain(await rejectionOf(verifier.verifyToken(token)));
      expect(chain.join("\n")).toContain("\\u001b");
      for (const message of chain) expect(message).not.toMatch(RAW_CONTROL);
    }
  });

  it("never quotes a key server's body: a KeySetError and the 503's cause say 'not JSON', escaped", async () => {
    server.mode = "raw";
    server.rawBody = `{"keys": [${HOSTILE}`;
    const verifier = createVerifier({ jwksUri: server.jwksUri, issuer: "x", clock: fixedClock });
    const error = await verifier.ready().then(
      () => undefined,
      (rejected: unknown) => rejected,
    );
    expect(error).toBeInstanceOf(KeySetError);
    for (const message of causeChain(error)) expect(message).not.toMatch(RAW_CONTROL);
    expect((error as Error).message).toContain("not JSON");
    const refusal = await rejectionOf(verifier.verifyToken(signRs256(roomsAccessClaims(), key)));
    expect(refusal.reason).toBe("keys_unavailable");
    for (const message of causeChain(refusal)) expect(message).not.toMatch(RAW_CONTROL);
  });

  it("bounds a long value in a cause", async () => {
    const verifier = createVerifier({ ...hmac, issuer: "Rooms-API-Internal-Access" });
    const refusal = await rejectionOf(verifier.verifyToken(signHmac(roomsAccessClaims({ iss: "i".repeat(5000) }))));
    const [cause] = causeChain(refusal.cause);
    expect(cause?.length).toBeLessThan(200);
  });
});

describe("a URL's credentials never show", () => {
  const withCredentials = (port: number): string => `http://alice:s3cret-pass@127.0.0.1:${port}/.well-known/jwks.json`;

  it("in a KeySetError, its uri, and every cause of a 503", async () => {
    const down = await JwksServer.start();
    const port = Number(new URL(down.jwksUri).port);
    await down.close();
    const verifier = createVerifier({ jwksUri: withCredentials(port), issuer: "x", clock: fixedClock });
    const error = (await verifier.ready().catch((rejected: unknown) => rejected)) as KeySetError;
    expect(error).toBeInstanceOf(KeySetError);
    expect(error.uri).toBe(`http://***@127.0.0.1:${port}/.well-known/jwks.json`);
    const refusal = await rejectionOf(verifier.verifyToken(signRs256(roomsAccessClaims(), key)));
    for (const text of [error.message, error.uri, ...causeChain(error), ...causeChain(refusal)]) {
      expect(text).not.toContain("s3cret");
      expect(text).not.toContain("alice");
    }
  });

  it("in an HTTP error status's message", async () => {
    server.mode = "error500";
    const port = Number(new URL(server.jwksUri).port);
    const verifier = createVerifier({ jwksUri: withCredentials(port), issuer: "x", clock: fixedClock });
    const refusal = await rejectionOf(verifier.verifyToken(signRs256(roomsAccessClaims(), key)));
    const chain = causeChain(refusal).join("\n");
    expect(chain).toContain("answered HTTP 500");
    expect(chain).not.toContain("s3cret");
  });

  it("in a ConfigError", () => {
    const error = thrownBy(() => createVerifier({ jwksUri: "http://bob:hunter2@keys.example.com/jwks" })) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).not.toContain("hunter2");
  });
});

describe("keys come over https", () => {
  it.each([
    ["jwksUri", { jwksUri: "http://keys.example.com/jwks.json" }, "`jwksUri` is plain http"],
    ["issuerUrl", { issuerUrl: "http://issuer.example.com" }, "`issuerUrl` is plain http"],
    [
      "a pool's jwksUri",
      {
        cognito: [
          { userPoolId: "us-east-1_aaaaaaaaa" },
          { userPoolId: "local_bbbbbbbbb", jwksUri: "http://10.0.0.5/keys", issuer: "http://10.0.0.5/local" },
        ],
      },
      "`cognito[1].jwksUri` is plain http",
    ],
  ])("refuses a plain http %s off this machine at start-up, naming it and the opt-in", (_name, options, named) => {
    const error = thrownBy(() => createVerifier(options)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(named);
    expect(error.message).toContain("allowInsecureHttp");
  });

  it("takes http on loopback (localhost, 127.0.0.0/8, ::1), and anywhere with allowInsecureHttp", () => {
    for (const jwksUri of ["http://localhost:4000/k", "http://127.0.0.9/k", "http://[::1]:8080/k"]) {
      expect(() => createVerifier({ jwksUri, issuer: "x" })).not.toThrow();
    }
    expect(() =>
      createVerifier({ jwksUri: "http://keys.internal.example/k", issuer: "x", allowInsecureHttp: true }),
    ).not.toThrow();
    expect(() => createVerifier({ jwksUri: "http://0.0.0.0/k", issuer: "x" })).toThrow("plain http");
  });

  it("reads JWT_ALLOW_INSECURE_HTTP, and names the variables when it is missing", () => {
    const env = { JWKS_URI: "http://keys.internal.example/k", JWT_ISSUER: "x" };
    expect(() => createVerifier(optionsFromEnv(env))).toThrow(
      /`JWKS_URI` is plain http.*set `JWT_ALLOW_INSECURE_HTTP` to true/,
    );
    expect(() => createVerifier(optionsFromEnv({ ...env, JWT_ALLOW_INSECURE_HTTP: "true" }))).not.toThrow();
    expect(() => optionsFromEnv({ ...env, JWT_ALLOW_INSECURE_HTTP: "yes" })).toThrow("must be true or false");
  });
});

describe("claims nested too deep", () => {
  // the JSON text written out, as JSON.stringify would overflow its own stack on the deepest
  const arrays = (count: number): string => `${"[".repeat(count)}1${"]".repeat(count)}`;
  function signedWith(deep: string, headerExtra = ""): string {
    const claims = JSON.stringify(roomsAccessClaims());
    const payload = `${claims.slice(0, -1)},"deep":${deep}}`;
    const header = `{"alg":"HS256"${headerExtra}}`;
    const input = `${Buffer.from(header).toString("base64url")}.${Buffer.from(payload).toString("base64url")}`;
    return `${input}.${createHmac("sha256", HMAC_SECRET).update(input).digest("base64url")}`;
  }

  it("accept 32 levels (the payload is level 1) and refuse 33 as malformed_token", async () => {
    const verifier = createVerifier({ ...hmac, issuer: "Rooms-API-Internal-Access" });
    await expect(verifier.verifyToken(signedWith(arrays(31)))).resolves.toBeDefined();
    const refusal = await rejectionOf(verifier.verifyToken(signedWith(arrays(32))));
    expect([refusal.reason, refusal.code, refusal.status]).toEqual(["malformed_token", 450, 401]);
  });

  it.each([100, 5000, 50_000])(
    "refuse %i levels as malformed_token (401/450), not a 503, at a raised maxTokenLength",
    async (depth) => {
      const verifier = createVerifier({ ...hmac, maxTokenLength: 1_000_000 });
      const refusal = await rejectionOf(verifier.verifyToken(signedWith(arrays(depth))));
      expect([refusal.reason, refusal.status]).toEqual(["malformed_token", 401]);
      const inHeader = signedWith("1", `,"x":${arrays(depth)}`);
      expect((await rejectionOf(verifier.verifyToken(inHeader))).reason).toBe("malformed_token");
    },
  );
});

describe("predicates answer true or false", () => {
  const token = signHmac(roomsAccessClaims());

  it.each<[string, (value: unknown) => boolean, string]>([
    ["an async function", (async () => Promise.resolve(false)) as unknown as (value: unknown) => boolean, "a promise"],
    ["the string 'false'", (() => "false") as unknown as (value: unknown) => boolean, 'the string "false"'],
    ["a number", (() => 1) as unknown as (value: unknown) => boolean, "the number"],
    ["undefined", (() => undefined) as unknown as (value: unknown) => boolean, "undefined"],
  ])(
    "a requiredClaims predicate returning %s is a 980 naming the claim, never a pass",
    async (_name, predicate, got) => {
      const verifier = createVerifier({ ...hmac, requiredClaims: { uid: predicate } });
      const refusal = await rejectionOf(verifier.verifyToken(token));
      expect([refusal.reason, refusal.code, refusal.status]).toEqual(["internal_error", 980, 503]);
      expect(causeChain(refusal.cause)[0]).toMatch(new RegExp(`requiredClaims\\.uid's predicate returned ${got}`));
    },
  );

  it("true passes and false refuses as claim_mismatch", async () => {
    await expect(
      createVerifier({ ...hmac, requiredClaims: { uid: (v) => v === 2 } }).verifyToken(token),
    ).resolves.toBeDefined();
    const refusal = await rejectionOf(
      createVerifier({ ...hmac, requiredClaims: { uid: (v) => v === 3 } }).verifyToken(token),
    );
    expect(refusal.reason).toBe("claim_mismatch");
  });
});

describe("scopes and groups split only where the spec does", () => {
  it.each<[string, unknown, string[]]>([
    ["a list's members whole", ["read,admin", "write admin"], ["read,admin", "write admin"]],
    ["a string on spaces and commas", "read admin,write", ["read", "admin", "write"]],
    ["not on U+2028", "read\u2028admin", ["read\u2028admin"]],
    ["not on U+FEFF", "read\uFEFFadmin", ["read\uFEFFadmin"]],
    ["not on a no-break space", "read\u00A0admin", ["read\u00A0admin"]],
    ["not on a tab or a newline", "read\tadmin\nx", ["read\tadmin\nx"]],
  ])("scopes: %s", (_name, claim, scopes) => {
    expect(parseScopes(claim)).toEqual(scopes);
  });

  it.each<[string, unknown, string[]]>([
    ["a list's members whole", ["editors,admins"], ["editors,admins"]],
    ["a string on spaces and commas", "editors admins,ops", ["editors", "admins", "ops"]],
    ["not on U+2028", "editors\u2028admins", ["editors\u2028admins"]],
  ])("groups: %s", (_name, claim, groups) => {
    expect(parseGroups(claim)).toEqual(groups);
  });

  it("a list member holding a comma passes no guard of one of its parts", async () => {
    const verifier = createVerifier(hmac);
    const auth = await verifier.verifyToken(signHmac(roomsAccessClaims({ scope: ["read,admin"] })));
    expect(auth.scopes.includes("admin")).toBe(false);
  });
});

describe("getToken", () => {
  it("returning null means no token: 401 missing_token, or anonymous without credentialsRequired", async () => {
    const required = createVerifier({ ...hmac, getToken: () => null });
    expect((await rejectionOf(required.authenticate({}, undefined))).reason).toBe("missing_token");
    const optional = createVerifier({ ...hmac, getToken: () => Promise.resolve(null), credentialsRequired: false });
    await expect(optional.authenticate({}, undefined)).resolves.toBeUndefined();
  });
});

describe("the token cache keeps its bound with tokens cut out of larger strings", () => {
  // a sliced string keeps its whole parent alive: a token cut out of a 16 KB cookie held 16 KB
  it("holds about what it counts, not the cookies the tokens came from", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const cache = new TokenCache({ maxEntries: 2000, maxBytes: 64 * 1024 * 1024 });
    const template = signHmac(roomsAccessClaims());
    const { payload, heapBytes } = decodeJwt(template);
    const claims = { ...payload, exp: NOW + 3600 } as Parameters<TokenCache["set"]>[1];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2000; i++) {
      const cookie = `session=${"x".repeat(16_000)}${i}; token=${template}${i.toString(36)}; theme=dark`;
      const token = cookie.slice(cookie.indexOf("token=") + 6, cookie.indexOf("; theme"));
      cache.set(token, claims, { scopes: [], groups: [] }, 0, 0, NOW, heapBytes);
    }
    gc();
    const held = process.memoryUsage().heapUsed - before;
    expect(cache.size).toBe(2000);
    // 2000 cookies are 32 MB: held, they would be ten times what the cache counts
    expect(held).toBeLessThan(cache.bytes * 1.5);
  });
});

describe("a discovery document's jwks_uri", () => {
  const document = (jwksUri: string) => ({ issuer: "https://issuer.example", jwks_uri: jwksUri });

  it("from an https issuer must be https, even on loopback, unless allowInsecureHttp", () => {
    expect(jwksUriOf(document("https://keys.example/jwks"), "https://issuer.example", false)).toBe(
      "https://keys.example/jwks",
    );
    for (const uri of ["http://keys.example/jwks", "http://127.0.0.1:8080/jwks"]) {
      expect(() => jwksUriOf(document(uri), "https://issuer.example", false)).toThrow(`jwks_uri ${uri} is plain http`);
      expect(jwksUriOf(document(uri), "https://issuer.example", true)).toBe(uri);
    }
  });

  it("from a loopback http issuer may be http on loopback only", () => {
    const local = { issuer: "http://127.0.0.1:3000", jwks_uri: "http://localhost:3000/jwks" };
    expect(jwksUriOf(local, "http://127.0.0.1:3000", false)).toBe("http://localhost:3000/jwks");
    const away = { issuer: "http://127.0.0.1:3000", jwks_uri: "http://keys.example/jwks" };
    expect(() => jwksUriOf(away, "http://127.0.0.1:3000", false)).toThrow("plain http");
  });
});
