import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { HMAC_SECRET, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";
import { anchorOf, blocksOf, brokenLinks, checkedBlocks, CONSUMER_TSCONFIG } from "./docs.js";
import { BODY_401 } from "../fixtures/catalogue.js";

// Packs the tarball as `npm publish` would, installs it into a scratch project, and uses every
// subpath through `import` and `require`. The scratch project sits inside this repository so the
// package's own dependencies resolve from node_modules without any network.
const root = resolve(__dirname, "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
let scratch: string;
let files: string[];

beforeAll(() => {
  mkdirSync(join(root, ".pack-test"), { recursive: true });
  scratch = mkdtempSync(join(root, ".pack-test", "scratch-"));
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", scratch], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [packed] = JSON.parse(out.slice(out.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  files = packed!.files.map((file) => file.path);
  const installed = join(scratch, "node_modules", "bearer-gate");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", join(scratch, packed!.filename), "-C", installed, "--strip-components=1"]);
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Jest in the docs' consumer project, as a CI would run it: examples that read JWT_SECRET at start-up find one
function runJest(args: string[], cwd: string): [number | null, string] {
  const run = spawnSync(process.execPath, args, {
    cwd,
    encoding: "utf8",
    timeout: 150_000,
    env: { PATH: process.env["PATH"], CI: "true", HOME: process.env["HOME"], JWT_SECRET: "s".repeat(32) },
  });
  return [run.status, `${run.stdout}${run.stderr}`];
}

const token = signHmac(roomsAccessClaims({ exp: Math.floor(Date.now() / 1000) + 600 }));
const body = (load: string): string => `
${load}
const verifier = core.createVerifier({ secret: ${JSON.stringify(HMAC_SECRET)} });
verifier.verify(${JSON.stringify(`Bearer ${token}`)}).then(async (auth) => {
  const refused = await verifier.verify("Basic x").catch((error) => error);
  console.log(JSON.stringify({
    uid: auth.claims.uid,
    refused: [refused instanceof core.TokenError, refused.reason, core.errorResponse(refused).status],
    express: [typeof express.requireToken, typeof express.requireScope, typeof express.requireAnyScope, typeof express.authErrorHandler],
    koa: [typeof koa.requireToken, typeof koa.requireScope, typeof koa.requireAnyScope, typeof koa.authErrorHandler],
    middlewareName: express.requireToken({ secret: ${JSON.stringify(HMAC_SECRET)} }).name,
    testing: [typeof testing.createTestIssuer, typeof testing.hmacTokens],
    revocation: [typeof core.createRevocationList, typeof core.createMemoryStore, typeof redis.createRedisStore],
    mcp: [typeof mcp.mcpRequest, typeof mcp.toAuthInfo, typeof mcp.createMcpVerifier, typeof express.protectedResourceMetadata],
  }));
});`;

// one process that loads both builds, and hands errors and middleware from one to the other
const MIX = `
import { createRequire } from "node:module";
import http from "node:http";
import * as esm from "bearer-gate";
import * as esmExpress from "bearer-gate/express";
import * as esmKoa from "bearer-gate/koa";
const require = createRequire(import.meta.url);
const cjs = require("bearer-gate");
const cjsExpress = require("bearer-gate/express");
const cjsKoa = require("bearer-gate/koa");
const express = require("express");
const Koa = require("koa");
const options = { secret: ${JSON.stringify(HMAC_SECRET)}, respond: false };

async function ask(listener) {
  const server = http.createServer(listener);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const res = await fetch(\`http://127.0.0.1:\${server.address().port}/\`);
  const answer = [res.status, res.headers.get("content-type"), await res.text()];
  await new Promise((resolve) => server.close(resolve));
  return answer;
}
const pairs = [[esmExpress, cjsExpress, esmKoa, cjsKoa], [cjsExpress, esmExpress, cjsKoa, esmKoa]];
const results = { instanceOf: [], errorResponse: [], express: [], koa: [] };
results.instanceOf.push(new esm.TokenError("expired") instanceof cjs.TokenError);
results.instanceOf.push(new cjs.TokenError("expired") instanceof esm.TokenError);
results.instanceOf.push(new esm.ConfigError("x") instanceof cjs.ConfigError);
results.instanceOf.push(new cjs.ConfigError("x") instanceof esm.ConfigError);
for (const [from, to] of [[esm, cjs], [cjs, esm]]) {
  const { status, body } = to.errorResponse(new from.TokenError("expired"));
  results.errorResponse.push([status, body.error.code]);
}
for (const [guardExpress, handlerExpress, guardKoa, handlerKoa] of pairs) {
  const app = express().use(guardExpress.requireToken(options)).get("/", (_req, res) => res.json({ ok: true }));
  results.express.push(await ask(app.use(handlerExpress.authErrorHandler())));
  const koa = new Koa().use(handlerKoa.authErrorHandler()).use(guardKoa.requireToken(options));
  results.koa.push(await ask(koa.use((ctx) => { ctx.body = { ok: true }; }).callback()));
}
console.log(JSON.stringify(results));
`;

const expected = {
  uid: 2,
  refused: [true, "malformed_header", 401],
  express: ["function", "function", "function", "function"],
  koa: ["function", "function", "function", "function"],
  middlewareName: "requireToken",
  testing: ["function", "function"],
  revocation: ["function", "function", "function"],
  mcp: ["function", "function", "function", "function"],
};

// The testing kit as a user's own test suite would use it; run by each test runner, it must pass
// and let the runner exit (no open handles: a hang fails the test on its timeout).
const kitTest = (imports: string): string => `
${imports}
import { createVerifier } from "bearer-gate";
import { createTestIssuer, hmacTokens } from "bearer-gate/testing";

test("the testing kit verifies under this runner", async () => {
  const issuer = await createTestIssuer({ clientId: "web" });
  try {
    const auth = await createVerifier(issuer.cognitoOptions()).verifyToken(issuer.accessToken({ scope: "posts" }));
    assert.deepEqual(auth.scopes, ["posts"]);
    const hmac = hmacTokens("a-secret-for-the-runner-test-1234");
    assert.equal((await createVerifier(hmac.options()).verifyToken(hmac.access())).claims.token_type, "access");
  } finally {
    await issuer.close();
  }
});
`;

describe("the packed package", () => {
  it.each([
    [
      "require from a CommonJS project",
      "cjs.cjs",
      'const core = require("bearer-gate"); const express = require("bearer-gate/express"); const koa = require("bearer-gate/koa"); const testing = require("bearer-gate/testing"); const redis = require("bearer-gate/redis"); const mcp = require("bearer-gate/mcp");',
    ],
    [
      "import from an ES module project",
      "esm.mjs",
      'import * as core from "bearer-gate"; import * as express from "bearer-gate/express"; import * as koa from "bearer-gate/koa"; import * as testing from "bearer-gate/testing"; import * as redis from "bearer-gate/redis"; import * as mcp from "bearer-gate/mcp";',
    ],
  ])("works through %s", (_how, file, load) => {
    writeFileSync(join(scratch, file), body(load));
    expect(JSON.parse(execFileSync(process.execPath, [file], { cwd: scratch, encoding: "utf8" }))).toEqual(expected);
  });

  it("runs the bearer-gate command from its bin entry", () => {
    const bin = join(
      scratch,
      "node_modules",
      "bearer-gate",
      (pkg as unknown as { bin: Record<string, string> }).bin["bearer-gate"]!,
    );
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node")).toBe(true);
    const out = execFileSync(process.execPath, [bin, "inspect", "-", "--json"], { input: token, encoding: "utf8" });
    expect(JSON.parse(out)).toMatchObject({ verified: false, kind: "the API's access token" });
    const refused = spawnSync(
      process.execPath,
      [bin, "verify", token, "--secret", "a-wrong-secret-that-is-32-bytes-long"],
      {
        encoding: "utf8",
      },
    );
    expect([refused.status, refused.stdout]).toEqual([1, expect.stringContaining("REFUSED: invalid_signature")]);
    const noKey = spawnSync(process.execPath, [bin, "verify", token], {
      encoding: "utf8",
      env: { PATH: process.env["PATH"] },
    });
    expect([noKey.status, noKey.stderr]).toEqual([2, expect.stringContaining("no key given")]);
    const { version } = pkg as unknown as { version: string };
    expect(execFileSync(process.execPath, [bin, "--version"], { encoding: "utf8" })).toBe(`${version}\n`);
  });

  it("lets the testing kit run under node's own test runner", () => {
    writeFileSync(
      join(scratch, "kit.node.test.mjs"),
      kitTest('import { test } from "node:test"; import assert from "node:assert/strict";'),
    );
    const run = spawnSync(process.execPath, ["--test", "kit.node.test.mjs"], {
      cwd: scratch,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect([run.status, run.stdout]).toEqual([0, expect.stringMatching(/# pass 1\n# fail 0/)]);
  });

  it("lets the testing kit run under vitest", () => {
    writeFileSync(join(scratch, "kit.vitest.test.mjs"), kitTest('import { test, assert } from "vitest";'));
    const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
    const run = spawnSync(process.execPath, [vitest, "run", "--root", scratch, "kit.vitest.test.mjs"], {
      cwd: scratch,
      encoding: "utf8",
      timeout: 90_000,
      env: { ...process.env, CI: "true" },
    });
    expect([run.status, `${run.stdout}${run.stderr}`]).toEqual([0, expect.stringMatching(/1 passed/)]);
  }, 120_000);

  it("answers alike through every mix of the ESM and CommonJS builds (the dual-package hazard)", () => {
    writeFileSync(join(scratch, "mix.mjs"), MIX);
    const out = execFileSync(process.execPath, ["mix.mjs"], { cwd: scratch, encoding: "utf8" });
    const refusal = [401, "application/json; charset=utf-8", BODY_401];
    expect(JSON.parse(out)).toEqual({
      instanceOf: [true, true, true, true],
      errorResponse: [
        [401, 450],
        [401, 450],
      ],
      express: [refusal, refusal],
      koa: [refusal, refusal],
    });
  });

  // The docs' examples, as a user copies them: a consumer project with the packed package installed
  describe("the code blocks of README.md and docs/", () => {
    const { blocks, unmarked } = checkedBlocks(root);
    let project: string;
    beforeAll(() => {
      project = join(scratch, "docs-project");
      mkdirSync(project);
      writeFileSync(join(project, "package.json"), JSON.stringify({ private: true, type: "commonjs" }));
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
      for (const block of blocks) {
        mkdirSync(dirname(join(project, block.file)), { recursive: true });
        writeFileSync(join(project, block.file), block.source);
      }
      for (const dir of subprojects) {
        writeFileSync(join(project, dir, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
        // esm/: the apps with top-level await, as an ES module project has them
        const type = dir === "esm" ? "module" : "commonjs";
        writeFileSync(join(project, dir, "package.json"), JSON.stringify({ private: true, type }));
      }
    });
    const subprojects = [...new Set(blocks.map((block) => dirname(block.file)).filter((dir) => dir !== "."))];

    it("finds a ts block with no marker, and reads an indented one whole", () => {
      const page = "a\n\n```ts\nlet x = 1;\n```\n\n- item\n\n  <!-- check: b.ts -->\n\n  ```ts\n  let y = 2;\n  ```\n";
      expect(blocksOf("x.md", page)).toEqual({
        blocks: [{ file: "b.ts", source: "let y = 2;\n", at: "x.md:11" }],
        unmarked: ["x.md:3"],
      });
    });

    it("link only to pages and headings that are there", () => {
      expect(anchorOf("CORS and preflight requests")).toBe("cors-and-preflight-requests");
      expect(anchorOf("Any OpenID Connect or OAuth 2.0 issuer: discovery")).toBe(
        "any-openid-connect-or-oauth-20-issuer-discovery",
      );
      expect(brokenLinks(root)).toEqual([]);
    });

    it("are all checked or said to be fragments, one file each", () => {
      expect(unmarked).toEqual([]);
      const files = blocks.map((block) => block.file);
      expect(files.filter((file, i) => files.indexOf(file) !== i)).toEqual([]);
      // the README's own examples are among them: Express, Koa, a test, the Jest config
      expect(files).toEqual(
        expect.arrayContaining(["esm/express-app.ts", "esm/koa-app.ts", "posts.test.ts", "jest.config.cjs"]) as unknown,
      );
    });

    // skipLibCheck is off, so that this package's declarations are checked as the examples use them;
    // errors inside other packages' own declarations (@types/koa against its content-disposition) are
    // theirs, told apart by their path: the repository's node_modules, not the scratch project
    // mcp/: an MCP server on bearer-gate/express and the SDK; mcp-sdk-auth/: the SDK's own
    // requireBearerAuth (whose declaration of req.auth clashes with bearer-gate/express's) with
    // bearer-gate/mcp. Both compile without casts whether the SDK's declarations are checked or not.
    it.each([
      [".", ""],
      ["esm", ""],
      ["peers", ""],
      ["mcp", ""],
      ["mcp", "--skipLibCheck"],
      ["mcp-sdk-auth", ""],
      ["mcp-sdk-auth", "--skipLibCheck"],
    ])(
      "type-check under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess: %s %s",
      (dir, flag) => {
        const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
        const run = spawnSync(process.execPath, [tsc, "-p", join(project, dir), ...(flag === "" ? [] : [flag])], {
          cwd: root,
          encoding: "utf8",
          timeout: 120_000,
        });
        const ours = run.stdout
          .split("\n")
          .filter((line) => line.startsWith(".pack-test/") || line.startsWith("error"));
        expect(ours).toEqual([]);
        expect(run.status === 0 || run.stdout.includes("node_modules/")).toBe(true);
      },
      150_000,
    );

    it("pass when their tests run with Jest as the README configures it", () => {
      const tests = blocks
        .filter((block) => block.file.endsWith(".test.ts") && !block.file.startsWith("esm/"))
        .map((block) => block.file);
      expect(tests.length).toBeGreaterThanOrEqual(5);
      const jest = join(root, "node_modules", "jest", "bin", "jest.js");
      // the CommonJS project's tests; the ES module project's run below, with its own configuration
      const args = [
        jest,
        "--ci",
        "--config",
        "jest.config.cjs",
        "--rootDir",
        project,
        "--testPathIgnorePatterns",
        "/esm/",
      ];
      expect(runJest(args, project)).toEqual([0, expect.stringContaining(`Test Suites: ${tests.length} passed`)]);
    }, 180_000);

    it("pass in an ES module project with Jest as the README configures it there", () => {
      const esm = join(project, "esm");
      const tests = blocks.filter((block) => block.file.startsWith("esm/") && block.file.endsWith(".test.ts"));
      expect(tests.length).toBeGreaterThanOrEqual(1);
      const jest = join(root, "node_modules", "jest", "bin", "jest.js");
      const args = ["--experimental-vm-modules", jest, "--ci", "--config", "jest.config.js", "--rootDir", esm];
      expect(runJest(args, esm)).toEqual([0, expect.stringContaining(`Test Suites: ${tests.length} passed`)]);
    }, 180_000);
  });

  it("ships only the build, the docs and the licence", () => {
    const stray = files.filter(
      (file) =>
        !/^(dist\/(cjs|esm)\/.*\.(js|d\.ts)|dist\/(cjs|esm)\/package\.json|package\.json|README\.md|CHANGELOG\.md|LICENSE)$/.test(
          file,
        ),
    );
    expect(stray).toEqual([]);
    for (const entry of [
      "src/index",
      "adapters/express",
      "adapters/koa",
      "testing/index",
      "redis/index",
      "mcp/index",
      "cli/main",
    ]) {
      for (const kind of ["cjs", "esm"])
        expect(files).toEqual(expect.arrayContaining([`dist/${kind}/${entry}.js`, `dist/${kind}/${entry}.d.ts`]));
    }
  });

  it("loads nothing at run time but its dependencies and Node's built-ins (no express, no koa)", () => {
    // bearer-gate/mcp alone loads its optional peer, the MCP SDK, whose users import it
    const MCP_SDK = "@modelcontextprotocol/sdk/server/auth/errors.js";
    const allowed = new Set([
      MCP_SDK,
      ...Object.keys(pkg.dependencies),
      ...builtinModules,
      ...builtinModules.map((name) => `node:${name}`),
    ]);
    const loaded = new Set<string>();
    const dist = join(scratch, "node_modules", "bearer-gate", "dist");
    for (const file of readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((name) =>
      name.endsWith(".js"),
    )) {
      const source = readFileSync(join(dist, file), "utf8");
      for (const match of source.matchAll(/(?:from\s+|require\()\s*"([^".][^"]*)"/g)) {
        if (match[1] === MCP_SDK) expect(file).toMatch(/^(cjs|esm)\/mcp\/index\.js$/);
        loaded.add(match[1]!);
      }
    }
    expect([...loaded].filter((name) => !allowed.has(name))).toEqual([]);
    expect(loaded).toEqual(
      new Set([
        MCP_SDK,
        "jsonwebtoken",
        "jwks-rsa",
        "node:buffer",
        "node:crypto",
        "node:diagnostics_channel",
        "node:fs",
        "node:http",
        "node:https",
        "node:path",
        "node:util",
      ]),
    );
  });
});
