import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, type Io } from "../../cli/run.js";
import { signAs } from "../fixtures/keys.js";
import { JwksServer } from "../fixtures/jwks-server.js";
import { createDpopKey, createTestIssuer } from "bearer-gate/testing";
import { SEED_COGNITO_ACCESS_TOKEN, SEED_ROOMS_REFRESH_TOKEN } from "../fixtures/seeds.js";
import { HMAC_SECRET, NOW, rawToken, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";

async function cli(args: string[], options: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {}) {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text), isTTY: options.tty ?? false },
    stderr: { write: (text: string) => (stderr += text) },
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    env: options.env ?? {},
    now: () => NOW * 1000,
    version: "9.8.7",
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

describe("bearer-gate inspect", () => {
  it("explains a Cognito access token, saying nothing was verified", async () => {
    const { code, stdout } = await cli(["inspect", SEED_COGNITO_ACCESS_TOKEN]);
    expect(code).toBe(0);
    expect(stdout).toContain("NOT VERIFIED");
    expect(stdout).toContain("Cognito access token");
    expect(stdout).toMatch(/exp\s+2022-06-10T00:22:04\.000Z \(3 years ago\)/);
    expect(stdout).toContain("aws.cognito.signin.user.admin");
  });

  it("reads the token from stdin with -, and answers in JSON with --json", async () => {
    const { code, stdout } = await cli(["inspect", "-", "--json"], { stdin: `${SEED_ROOMS_REFRESH_TOKEN}\n` });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      verified: false,
      kind: expect.stringContaining("refresh token") as unknown,
      claims: { uid: 2 },
    });
  });

  it("says when the token is not a JWT (exit 1)", async () => {
    const { code, stderr } = await cli(["inspect", "not.a.token"]);
    expect([code, stderr]).toEqual([1, expect.stringContaining("not a JWT")]);
  });

  it("colours only on a TTY, and never with NO_COLOR", async () => {
    expect((await cli(["inspect", SEED_COGNITO_ACCESS_TOKEN], { tty: true })).stdout).toContain("\u001b[");
    expect((await cli(["inspect", SEED_COGNITO_ACCESS_TOKEN])).stdout).not.toContain("\u001b[");
    expect(
      (await cli(["inspect", SEED_COGNITO_ACCESS_TOKEN], { tty: true, env: { NO_COLOR: "1" } })).stdout,
    ).not.toContain("\u001b[");
  });
});

describe("bearer-gate verify", () => {
  const valid = signHmac(roomsAccessClaims());
  const hmac = ["--secret", HMAC_SECRET, "--issuer", "Rooms-API-Internal-Access"];

  describe("--dpop PROOF --url URL --method M", () => {
    const key = createDpopKey();
    const bound = signHmac(roomsAccessClaims({ cnf: { jkt: key.thumbprint } }));
    const url = "https://api.example.test/orders?page=2";
    const proof = (method = "POST") => key.proof({ method, url, accessToken: bound, iat: NOW });

    it("verifies the token with its proof, and names the key it is bound to (exit 0)", async () => {
      const args = ["verify", bound, ...hmac, "--dpop", proof(), "--url", url, "--method", "POST"];
      const text = await cli(args);
      expect([text.code, text.stdout]).toEqual([0, expect.stringContaining(`Bound    DPoP key ${key.thumbprint}`)]);
      const json = await cli([...args, "--json"]);
      expect(JSON.parse(json.stdout)).toMatchObject({
        valid: true,
        binding: { method: "dpop", thumbprint: key.thumbprint },
      });
    });

    it("refuses a proof for another method (exit 1), and a bound token with no proof", async () => {
      const wrong = await cli(["verify", bound, ...hmac, "--dpop", proof("GET"), "--url", url, "--method", "POST"]);
      expect([wrong.code, wrong.stdout]).toEqual([1, expect.stringContaining("REFUSED: invalid_dpop_proof")]);
      const none = await cli(["verify", bound, ...hmac]);
      expect([none.code, none.stdout]).toEqual([1, expect.stringContaining("REFUSED: dpop_bound_token")]);
    });

    it("is a usage error without --url, or with --url and no --dpop (exit 2)", async () => {
      const noUrl = await cli(["verify", bound, ...hmac, "--dpop", proof()]);
      expect([noUrl.code, noUrl.stderr]).toEqual([2, expect.stringContaining("--dpop needs --url")]);
      const noProof = await cli(["verify", bound, ...hmac, "--url", url]);
      expect([noProof.code, noProof.stderr]).toEqual([2, expect.stringContaining("--url and --method go with --dpop")]);
    });
  });

  it("prints the auth context of a valid token (exit 0)", async () => {
    const { code, stdout } = await cli(["verify", valid, ...hmac, "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ valid: true, scopes: ["users", "posts", "camps"], expiresIn: 86_400 });
  });

  it("prints the exact response and the reason for a refused token (exit 1)", async () => {
    const { code, stdout } = await cli(["verify", signHmac(roomsAccessClaims({ exp: NOW - 1 })), ...hmac]);
    expect(code).toBe(1);
    expect(stdout).toContain("REFUSED: expired");
    expect(stdout).toContain("HTTP 401");
    expect(stdout).toContain(
      'WWW-Authenticate: Bearer error="invalid_token", error_description="The access token expired"',
    );
    expect(stdout).toContain(
      '{"error":{"message":"The provided access token is invalid, or cannot be used with the provided parameters.","code":450}}',
    );
  });

  it("checks --scope like requireScope", async () => {
    const { code, stdout } = await cli(["verify", valid, ...hmac, "--scope", "posts", "--scope", "admin", "--json"]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      reason: "insufficient_scope",
      response: { status: 403, body: { error: { params: ["admin"] } } },
    });
  });

  it("verifies against a Cognito pool with a local JWKS", async () => {
    const issuer = await createTestIssuer();
    try {
      const args = ["--cognito-pool", issuer.userPoolId, "--client-id", issuer.clientId, "--jwks-uri", issuer.jwksUri];
      const token = issuer.accessToken();
      const io = await cli(["verify", token, ...args]);
      // the test's clock is fixed in 2026-01-01, the issuer's tokens are minted now
      expect([io.code, io.stdout]).toEqual([
        expect.any(Number),
        expect.stringMatching(/VALID|REFUSED: (expired|not_yet_valid)/),
      ]);
      const refused = await cli(["verify", issuer.idToken(), ...args, "--json"]);
      expect(refused.code).toBe(1);
    } finally {
      await issuer.close();
    }
  });

  it.each([
    [["verify", "a.b.c"]],
    [["verify", "a.b.c", "--client-id", "x", "--secret", "s"]],
    [["verify", "a.b.c", "--secret", "s", "--jwks-uri", "http://127.0.0.1:9/j"]],
    [["verify", "--secret", "s"]],
    [["verify", "a.b.c", "--nope"]],
    [["frobnicate"]],
    [[]],
  ])("answers usage and configuration errors with exit 2: %j", async (args) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr.length).toBeGreaterThan(0);
  });

  it("refuses a secret shorter than HS256 needs (exit 2), unless told --allow-short-secret", async () => {
    const short = signHmac(roomsAccessClaims(), "legacy-secret");
    const refused = await cli(["verify", short, "--secret", "legacy-secret"]);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining("`secret` is 13 bytes")]);
    const spy = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const allowed = await cli(["verify", short, "--secret", "legacy-secret", "--allow-short-secret", "--json"]);
      expect([allowed.code, JSON.parse(allowed.stdout)]).toEqual([0, expect.objectContaining({ valid: true })]);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it("prints a valid token in the friendly layout inspect uses, JSON only with --json", async () => {
    const { code, stdout } = await cli(["verify", valid, ...hmac]);
    expect(code).toBe(0);
    expect(() => JSON.parse(stdout) as unknown).toThrow();
    expect(stdout).toMatch(
      /^VALID: the middleware would let this request through\.\n\nKind {5}the API's access token\n/,
    );
    expect(stdout).toMatch(/Header {3}\{"typ":"JWT","jti":"[^"]+","alg":"HS256"\}\n/);
    expect(stdout).toMatch(/exp {6}2026-01-02T00:00:00\.000Z \(in 1 day\)/);
    expect(stdout).toContain("Scopes   users, posts, camps");
  });

  it("reads the key and the rest from the environment when no key flag is given", async () => {
    const env = { JWT_SECRET: HMAC_SECRET, JWT_ISSUER: "Rooms-API-Internal-Access" };
    const fromEnv = await cli(["verify", valid, "--json"], { env });
    expect([fromEnv.code, JSON.parse(fromEnv.stdout)]).toEqual([0, expect.objectContaining({ valid: true })]);
    // flags still add to what the environment gives
    const wrongIssuer = await cli(["verify", valid, "--issuer", "someone-else", "--json"], { env });
    expect([wrongIssuer.code, JSON.parse(wrongIssuer.stdout)]).toEqual([
      1,
      expect.objectContaining({ reason: "wrong_issuer" }),
    ]);
    // a key flag means the environment is not read at all
    const flagged = await cli(["verify", valid, "--secret", "another-secret-of-at-least-32-bytes!!", "--json"], {
      env,
    });
    expect(JSON.parse(flagged.stdout)).toMatchObject({ reason: "invalid_signature" });
    const none = await cli(["verify", valid]);
    expect([none.code, none.stderr]).toEqual([
      2,
      expect.stringContaining(
        "no key given: pass --secret, --public-key, --issuer-url, --cognito-pool or --jwks-uri, or set JWT_SECRET",
      ),
    ]);
    const badEnv = await cli(["verify", valid], { env: { JWT_SECRET: HMAC_SECRET, JWT_AUDIENCE: "" } });
    expect([badEnv.code, badEnv.stderr]).toEqual([2, expect.stringContaining('JWT_AUDIENCE="" is set but empty')]);
  });

  it("checks --algorithm, --claim and --token-use", async () => {
    const hs512 = await cli(["verify", valid, ...hmac, "--algorithm", "HS384", "--json"]);
    expect([hs512.code, hs512.stderr]).toEqual([
      2,
      expect.stringContaining("`secret` is 36 bytes; HS384 needs at least 48"),
    ]);
    const wrongAlg = await cli(["verify", valid, "--secret", "x".repeat(64), "--algorithm", "HS512", "--json"]);
    expect(JSON.parse(wrongAlg.stdout)).toMatchObject({ reason: "algorithm_not_allowed" });
    const claims = await cli(["verify", valid, ...hmac, "--claim", "type=user", "--claim", "uid=2", "--json"]);
    expect(JSON.parse(claims.stdout)).toMatchObject({ valid: true });
    const mismatch = await cli(["verify", valid, ...hmac, "--claim", "uid=3", "--json"]);
    expect([mismatch.code, JSON.parse(mismatch.stdout)]).toEqual([
      1,
      expect.objectContaining({ reason: "claim_mismatch" }),
    ]);
    expect(await cli(["verify", valid, ...hmac, "--claim", "uid"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--claim takes NAME=VALUE, got "uid"') as unknown,
    });
    const issuer = await createTestIssuer({ clientId: "web" });
    try {
      const at = { iat: NOW - 10, auth_time: NOW - 10, exp: NOW + 600 };
      const pool = ["--cognito-pool", issuer.userPoolId, "--client-id", "web", "--jwks-uri", issuer.jwksUri];
      const id = issuer.idToken(at);
      expect(JSON.parse((await cli(["verify", id, ...pool, "--json"])).stdout)).toMatchObject({
        reason: "wrong_token_use",
      });
      const ids = await cli(["verify", id, ...pool, "--token-use", "id", "--json"]);
      expect(JSON.parse(ids.stdout)).toMatchObject({ valid: true, userPoolId: issuer.userPoolId });
      const access = await cli(["verify", issuer.accessToken({ ...at, "cognito:groups": ["editors"] }), ...pool]);
      expect(access.stdout).toMatch(
        /Kind {5}Cognito access token[\s\S]*Groups {3}editors\nPool {5}us-east-1_BearerGate\n$/,
      );
      expect((await cli(["verify", id, ...hmac, "--token-use", "id"])).stderr).toContain(
        "--token-use goes with --cognito-pool",
      );
    } finally {
      await issuer.close();
    }
  });

  it("warns when --jwks-uri comes without --issuer", async () => {
    const bare = await cli(["verify", valid, "--jwks-uri", "http://127.0.0.1:9/jwks.json", "--json"]);
    expect(bare.stderr).toContain("warning: --jwks-uri without --issuer accepts a token from anyone those keys signed");
    const withIssuer = await cli(["verify", valid, "--jwks-uri", "http://127.0.0.1:9/j", "--issuer", "i", "--json"]);
    expect(withIssuer.stderr).toBe("");
  });

  it("says so when standard input holds no token (exit 2)", async () => {
    for (const args of [
      ["inspect", "-"],
      ["verify", "-", ...hmac],
    ]) {
      const { code, stderr } = await cli(args, { stdin: "\n" });
      expect([code, stderr]).toEqual([2, "error: no token on standard input\n"]);
    }
  });

  it("prints its version, and names an unknown command before the usage", async () => {
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: "9.8.7\n", stderr: "" });
    expect(await cli(["-v"])).toMatchObject({ code: 0, stdout: "9.8.7\n" });
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown command "frobnicate"\n\nUsage: bearer-gate <command>/);
    expect((await cli(["--frob"])).stderr).toMatch(/^error: unknown option "--frob"\n/);
  });

  it("prints help for every command (exit 0)", async () => {
    for (const args of [["--help"], ["inspect", "--help"], ["verify", "--help"]]) {
      const { code, stdout } = await cli(args);
      expect([code, stdout]).toEqual([0, expect.stringContaining("Usage: bearer-gate")]);
    }
  });
});

// an RS256 token whose keys must be downloaded first (its signature is never reached)
const rs256Token = rawToken({ alg: "RS256", kid: "k1" }, roomsAccessClaims());

describe("text from a token or a key server never reaches the terminal raw", () => {
  // what a hostile token carries: an OSC 52 clipboard write, a screen clear and a carriage return
  // that would draw a fake VALID line over the banner, DEL, a C1 control and a right-to-left override
  const HOSTILE = "\u001b]52;c;ZWNobyBvd25lZA==\u0007\u001b[2J\rVALID\u007f\u009b\u202egnp.exe\u2066";
  // eslint-disable-next-line no-control-regex -- the control characters are what it looks for
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
  const hostileToken = signHmac(
    roomsAccessClaims({ scope: `posts ${HOSTILE}`, "cognito:groups": [HOSTILE, "ok"], note: HOSTILE }),
  );
  const hmac = ["--secret", HMAC_SECRET, "--issuer", "Rooms-API-Internal-Access"];

  it.each([
    ["inspect", ["inspect", hostileToken]],
    ["inspect --json", ["inspect", hostileToken, "--json"]],
    ["verify", ["verify", hostileToken, ...hmac]],
    ["verify --json", ["verify", hostileToken, ...hmac, "--json"]],
    ["verify, refused with the value in its cause", ["verify", signHmac(roomsAccessClaims({ iss: HOSTILE })), ...hmac]],
  ])("%s shows every control character as an escape", async (_name, args) => {
    const { stdout, stderr } = await cli(args);
    expect(stdout).toContain("\\u001b");
    expect(stdout).not.toMatch(RAW);
    expect(stderr).not.toMatch(RAW);
  });

  it("keeps the JSON output parseable, with the same values", async () => {
    const { stdout } = await cli(["verify", hostileToken, ...hmac, "--json"]);
    const parsed = JSON.parse(stdout) as { claims: { note: string }; groups: string[] };
    expect([parsed.claims.note, parsed.groups]).toEqual([HOSTILE, [HOSTILE, "ok"]]);
  });

  it("escapes a key server's body in a refusal's cause", async () => {
    const server = await JwksServer.start();
    try {
      server.mode = "raw";
      server.rawBody = `{"keys": [] ${HOSTILE}`;
      const { code, stdout } = await cli(["verify", rs256Token, "--jwks-uri", server.jwksUri, "--issuer", "x"]);
      expect(code).toBe(3);
      expect(stdout).toContain("is not JSON");
      expect(stdout).not.toMatch(RAW);
    } finally {
      await server.close();
    }
  });
});

describe("verify's exit codes tell who failed", () => {
  const hmac = ["--secret", HMAC_SECRET, "--issuer", "Rooms-API-Internal-Access"];

  it("0 valid, 1 refused, 2 usage, 3 the server side (keys unavailable)", async () => {
    expect((await cli(["verify", signHmac(roomsAccessClaims()), ...hmac])).code).toBe(0);
    expect(
      (await cli(["verify", signHmac(roomsAccessClaims(), "another-secret-of-at-least-32-bytes!!"), ...hmac])).code,
    ).toBe(1);
    expect((await cli(["verify", "x", "--frobnicate"])).code).toBe(2);
    // nothing listens on port 1 of 127.0.0.1: the connection is refused at once
    const down = await cli(["verify", rs256Token, "--jwks-uri", "http://127.0.0.1:1/keys", "--issuer", "x"]);
    expect(down.code).toBe(3);
    expect(down.stdout).toContain("HTTP 503");
    expect(down.stdout).toContain("ECONNREFUSED"); // the root cause, chained
  });

  it("documents them in --help", async () => {
    const { stdout } = await cli(["verify", "--help"]);
    expect(stdout).toMatch(/0 +the token is valid/);
    expect(stdout).toMatch(/3 +the server side/);
  });
});

describe("times in the CLI's words", () => {
  it("puts a space between a claim's name and its time, auth_time too", async () => {
    const { stdout } = await cli(["inspect", signHmac(roomsAccessClaims({ auth_time: NOW - 60 }))]);
    expect(stdout).toMatch(/^auth_time \d{4}-\d\d-\d\dT.* \(1 minute ago\)$/m);
    expect(stdout).toMatch(/^exp +\d{4}-/m);
  });

  it("says when an expired token expired, as a date and how long ago", async () => {
    const expired = signHmac(roomsAccessClaims({ exp: NOW - 7200 }));
    const { code, stdout } = await cli([
      "verify",
      expired,
      "--secret",
      HMAC_SECRET,
      "--issuer",
      "Rooms-API-Internal-Access",
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(`expired ${new Date((NOW - 7200) * 1000).toISOString()} (2 hours ago)`);
  });
});

describe("verify --public-key", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const token = signAs("EdDSA", privateKey, roomsAccessClaims());
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bearer-gate-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true }));

  it.each([
    ["a PEM", () => publicKey.export({ format: "pem", type: "spki" }) as string],
    ["a JWK", () => JSON.stringify({ ...publicKey.export({ format: "jwk" }), kid: "k1" })],
    ["a JWKS", () => JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }) }] })],
  ])("verifies with %s in a file", async (_name, content) => {
    const file = join(dir, "key");
    writeFileSync(file, content());
    const { code, stdout } = await cli([
      "verify",
      token,
      "--public-key",
      file,
      "--issuer",
      "Rooms-API-Internal-Access",
    ]);
    expect([code, stdout]).toEqual([0, expect.stringContaining("VALID")]);
  });

  it("says so for a file that is missing or holds a private key (exit 2)", async () => {
    const missing = await cli(["verify", token, "--public-key", join(dir, "nope.pem")]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("cannot be read (ENOENT)")]);
    const file = join(dir, "private.pem");
    writeFileSync(file, privateKey.export({ format: "pem", type: "pkcs8" }));
    const secretKey = await cli(["verify", token, "--public-key", file]);
    expect([secretKey.code, secretKey.stderr]).toEqual([2, expect.stringContaining("is a private key")]);
  });
});

describe("verify --issuer-url, JWT_ISSUER_URL, and an unknown option", () => {
  it("takes --issuer-url (and JWT_ISSUER_URL) as the key source: discovery, here refused at once (exit 3)", async () => {
    const flag = await cli(["verify", rs256Token, "--issuer-url", "http://127.0.0.1:1"]);
    expect([flag.code, flag.stdout]).toEqual([3, expect.stringContaining("ECONNREFUSED")]);
    const env = await cli(["verify", rs256Token], { env: { JWT_ISSUER_URL: "http://127.0.0.1:1" } });
    expect(env.code).toBe(3);
  });

  it("names the closest known option, then the usage (exit 2)", async () => {
    const { code, stderr } = await cli(["verify", "a.b.c", "--isuer-url", "http://127.0.0.1:1"]);
    expect(code).toBe(2);
    expect(stderr).toContain("error: unknown option --isuer-url (did you mean --issuer-url?)\n");
    expect(stderr).toContain("Usage: bearer-gate verify");
    expect((await cli(["verify", "a.b.c", "--zzzzzzzz"])).stderr).not.toContain("did you mean");
  });
});
