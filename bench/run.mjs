// `npm run bench [-- --quick] [-- --write]`: bearer-gate side by side with the crypto floor and its
// peers, in one run, contenders alternating round by round so the machine's drift cancels.
// Prints medians and ratios; --write also records them in BENCHMARKS.md and bench/ratios.svg.
import { createHmac, createSecretKey, timingSafeEqual, verify as cryptoVerify } from "node:crypto";
import { execFileSync, fork, spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { cpus, totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import autocannon from "autocannon";
import jwt from "jsonwebtoken";
import * as jose from "jose";
import { createVerifier as fastJwt } from "fast-jwt";
import { JwtRsaVerifier } from "aws-jwt-verify";
import { createVerifier } from "bearer-gate";
import { AUDIENCE, ISSUER, SECRET, makeToken, rsaKey } from "./tokens.mjs";

const { values: args } = parseArgs({ options: { quick: { type: "boolean" }, write: { type: "boolean" } } });
const QUICK = Boolean(args.quick);
const ROUNDS = QUICK ? 3 : 9;
const SLICE_MS = QUICK ? 60 : 250;
const DISTINCT = QUICK ? 2_000 : 10_000;
const HTTP_ROUNDS = QUICK ? 1 : 5;
const HTTP_SECONDS = QUICK ? 1 : 2;
const MEMORY_TOKENS = QUICK ? 100_000 : 1_000_000;
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
const started = Date.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (line) => process.stderr.write(`${line}\n`);

const key = rsaKey();
const jwksServer = createServer((_req, res) =>
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key.jwk] })),
);
await new Promise((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
const jwksUri = `http://127.0.0.1:${jwksServer.address().port}/.well-known/jwks.json`;

// ---- 1. in-process verification -------------------------------------------------------------
const hmacKey = createSecretKey(Buffer.from(SECRET));
const b64json = (segment) => JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
function floorCheck(claims) {
  if (!(claims.exp > Date.now() / 1000)) throw new Error("expired");
  return claims;
}
// decode + HMAC or RSA with a prebuilt KeyObject + an exp check: nothing can do less and be correct
const floors = {
  HS256(token) {
    const [h, p, s] = token.split(".");
    b64json(h);
    const expected = createHmac("sha256", hmacKey).update(`${h}.${p}`).digest();
    const given = Buffer.from(s, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error("signature");
    return floorCheck(b64json(p));
  },
  RS256(token) {
    const [h, p, s] = token.split(".");
    b64json(h);
    if (!cryptoVerify("sha256", Buffer.from(`${h}.${p}`), key.publicKey, Buffer.from(s, "base64url")))
      throw new Error("signature");
    return floorCheck(b64json(p));
  },
};

async function contendersFor(alg) {
  const hs = alg === "HS256";
  const floor = floors[alg];
  const map = new Map();
  const common = { issuer: ISSUER, audience: AUDIENCE };
  const ours = (tokenCache) =>
    createVerifier(hs ? { secret: SECRET, ...common, tokenCache } : { jwksUri, ...common, tokenCache });
  const cached = ours(undefined);
  const uncached = ours(false);
  const awsVerifier = hs ? undefined : JwtRsaVerifier.create({ issuer: ISSUER, audience: AUDIENCE, jwksUri });
  awsVerifier?.cacheJwks({ keys: [key.jwk] });
  const joseKey = hs ? hmacKey : key.publicKey;
  const fast = (cache) =>
    fastJwt({ key: hs ? SECRET : key.pem, algorithms: [alg], allowedIss: ISSUER, allowedAud: AUDIENCE, cache });
  const fastPlain = fast(false);
  const fastCached = fast(20_000);
  const list = [
    ["floor", (t) => floor(t)],
    ["floor + Map", (t) => map.get(t) ?? (map.set(t, floor(t)), map.get(t))],
    ["bearer-gate", (t) => cached.verify(`Bearer ${t}`), true],
    ["bearer-gate (no cache)", (t) => uncached.verify(`Bearer ${t}`), true],
    [
      `jsonwebtoken (${hs ? "string" : "PEM"})`,
      (t) => jwt.verify(t, hs ? SECRET : key.pem, { algorithms: [alg], ...common }),
    ],
    ["jsonwebtoken (KeyObject)", (t) => jwt.verify(t, joseKey, { algorithms: [alg], ...common })],
    ["jose jwtVerify", (t) => jose.jwtVerify(t, joseKey, { algorithms: [alg], ...common }), true],
    ["fast-jwt", (t) => fastPlain(t)],
    ["fast-jwt (cache 20k)", (t) => fastCached(t)],
  ];
  if (!hs) list.push(["aws-jwt-verify (JWKS cached)", (t) => awsVerifier.verifySync(t)]);
  return list;
}

async function measure(fn, isAsync, tokens) {
  let i = 0;
  let ops = 0;
  const start = performance.now();
  const end = start + SLICE_MS;
  while (performance.now() < end) {
    for (let k = 0; k < 64; k++) {
      const token = tokens[i++ % tokens.length];
      if (isAsync) await fn(token);
      else fn(token);
    }
    ops += 64;
  }
  return ops / ((performance.now() - start) / 1000);
}

const inProcess = [];
for (const alg of ["HS256", "RS256"]) {
  log(`signing ${DISTINCT} distinct ${alg} tokens...`);
  const distinct = Array.from({ length: DISTINCT }, (_, i) => makeToken(alg, i, key));
  const workloads = { repeated: [distinct[0]], distinct };
  const contenders = await contendersFor(alg);
  // one full pass each: every contender accepts every token, and caches start in their steady state
  for (const [, fn, isAsync] of contenders) for (const token of distinct) await (isAsync ? fn(token) : fn(token));
  for (const [workload, tokens] of Object.entries(workloads)) {
    const samples = new Map(contenders.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
      for (const [name, fn, isAsync] of order) samples.get(name).push(await measure(fn, isAsync, tokens));
    }
    const floorOps = median(samples.get("floor"));
    for (const [name, xs] of samples)
      inProcess.push({ alg, workload, name, ops: median(xs), ratio: median(xs) / floorOps });
    log(`${alg} ${workload}: done`);
  }
}

// ---- 2. HTTP ---------------------------------------------------------------------------------
const redis = await startRedis();
const APPS = [
  "express bare",
  "express + floor cache",
  "express + bearer-gate",
  ...(redis ? ["express + bearer-gate + redis revocation"] : []),
  "express + express-jwt",
  "express + express-oauth2-jwt-bearer",
  "koa bare",
  "koa + floor cache",
  "koa + bearer-gate",
  ...(redis ? ["koa + bearer-gate + redis revocation"] : []),
  "koa + koa-jwt",
];
// a redis-server on 127.0.0.1 for the revocation rows; without one they are left out, and said so
async function startRedis() {
  if (spawnSync("redis-server", ["--version"]).error !== undefined) {
    log("redis-server not found (apt-get install redis-server): the redis revocation rows are left out");
    return undefined;
  }
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk) && out.includes("Ready to accept") && resolve());
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return { child, url: `redis://127.0.0.1:${port}` };
}
async function startApp(name, alg) {
  const child = fork(new URL("./apps.mjs", import.meta.url), [name, alg, jwksUri], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, BENCH_REDIS_URL: redis?.url ?? "" },
  });
  const { port } = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/` };
}
async function requestsPerSecond(url, token, seconds) {
  const result = await autocannon({
    url,
    connections: 16,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  const good = result["2xx"];
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return good / seconds;
}
const http = [];
for (const alg of ["RS256", "HS256"]) {
  const token = makeToken(alg, 0, key);
  const apps = [];
  for (const name of APPS) apps.push([name, await startApp(name, alg)]);
  for (const [, app] of apps) await requestsPerSecond(app.url, token, QUICK ? 1 : 2); // warm: keys fetched, code optimised
  const samples = new Map(APPS.map((name) => [name, []]));
  for (let round = 0; round < HTTP_ROUNDS; round++) {
    for (let i = 0; i < apps.length; i++) {
      const [name, app] = apps[(i + round) % apps.length];
      samples.get(name).push(await requestsPerSecond(app.url, token, HTTP_SECONDS));
    }
  }
  // wait for the apps to be gone, so none is still running (or reconnecting to Redis) during what follows
  await Promise.all(
    apps.map(([, { child }]) => new Promise((resolve) => (child.once("exit", resolve), child.disconnect()))),
  );
  for (const name of APPS) {
    const bare = median(samples.get(name.startsWith("koa") ? "koa bare" : "express bare"));
    http.push({ alg, name, rps: median(samples.get(name)), ratio: median(samples.get(name)) / bare });
  }
  log(`HTTP ${alg}: done`);
}
if (redis) await new Promise((resolve) => (redis.child.once("exit", resolve), redis.child.kill()));

// ---- 3. memory -------------------------------------------------------------------------------
log(`verifying ${MEMORY_TOKENS} distinct HS256 tokens...`);
const memVerifier = createVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE });
gc();
const before = process.memoryUsage();
let lastAuth;
for (let i = 0; i < MEMORY_TOKENS; i++)
  lastAuth = await memVerifier.verify(`Bearer ${makeToken("HS256", 1_000_000 + i)}`);
gc();
const after = process.memoryUsage();
// the verifier is used after the measure, so it (and its cache) was alive during it; the last
// token is a cache hit, so the cache was full
const stillCached = (await memVerifier.verify(`Bearer ${lastAuth.token}`)).claims === lastAuth.claims;
if (!stillCached) throw new Error("the last token should have been a cache hit");
const MB = 1024 * 1024;
const memory = {
  tokens: MEMORY_TOKENS,
  heapGrowthMb: (after.heapUsed - before.heapUsed) / MB,
  heapMb: after.heapUsed / MB,
  rssMb: after.rss / MB,
  boundMb: 16,
};
jwksServer.close();

// ---- report ----------------------------------------------------------------------------------
const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2));
const lines = [];
lines.push(
  `In-process verification, ops/s (median of ${ROUNDS} alternating rounds of ${SLICE_MS} ms; ${DISTINCT} distinct tokens)`,
  "",
);
lines.push("| alg | workload | contender | ops/s | x floor |", "| --- | --- | --- | ---: | ---: |");
for (const row of inProcess)
  lines.push(`| ${row.alg} | ${row.workload} | ${row.name} | ${fmt(row.ops)} | ${row.ratio.toFixed(2)} |`);
lines.push(
  "",
  `HTTP on 127.0.0.1, one valid token repeated, requests/s (median of ${HTTP_ROUNDS} alternating rounds of ${HTTP_SECONDS} s, 16 connections)`,
  "",
);
lines.push("| alg | app | req/s | x bare |", "| --- | --- | ---: | ---: |");
for (const row of http) lines.push(`| ${row.alg} | ${row.name} | ${fmt(row.rps)} | ${row.ratio.toFixed(2)} |`);
const revocationRows = http.filter((row) => row.name.endsWith("+ redis revocation"));
if (revocationRows.length > 0) {
  lines.push("", "The Redis revocation list (one MGET per request) against the same app without it:", "");
  for (const row of revocationRows) {
    const without = http.find(
      (other) => other.alg === row.alg && other.name === row.name.replace(" + redis revocation", ""),
    );
    lines.push(`- ${row.alg} ${row.name}: ${(row.rps / without.rps).toFixed(2)}x the requests/s of ${without.name}`);
  }
}
lines.push(
  "",
  `Memory after verifying ${memory.tokens.toLocaleString("en-US")} distinct HS256 tokens with the default cache (bound ${memory.boundMb} MiB): heap ${memory.heapMb.toFixed(1)} MB (grew ${memory.heapGrowthMb.toFixed(1)} MB), RSS ${memory.rssMb.toFixed(1)} MB`,
);
const table = lines.join("\n");
console.log(table);
log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(0)} s`);

if (args.write) {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB`;
  writeFileSync("bench/ratios.svg", chart(inProcess, http));
  writeFileSync(
    "BENCHMARKS.md",
    `# Benchmarks\n\nRecorded by \`npm run bench -- --write\`${QUICK ? " --quick" : ""} on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${machine}.\n` +
      `Ratios are what matters: absolute figures vary with the machine. Run \`npm run bench\` to measure your own.\n\n![ratios](bench/ratios.svg)\n\n${table}\n`,
  ); // in the repository's style, so `prettier --check` in `npm test` holds after a recording
  execFileSync(process.execPath, [
    createRequire(import.meta.url).resolve("prettier/bin/prettier.cjs"),
    "--write",
    "BENCHMARKS.md",
  ]);
}
process.exit(0);

function chart(rows, httpRows) {
  const bars = [
    ...rows
      .filter((r) => r.name !== "floor")
      .map((r) => ({ label: `${r.alg} ${r.workload}: ${r.name}`, value: r.ratio, unit: "x floor" })),
    ...httpRows
      .filter((r) => !r.name.endsWith("bare"))
      .map((r) => ({ label: `HTTP ${r.alg}: ${r.name}`, value: r.ratio, unit: "x bare" })),
  ];
  const max = Math.max(...bars.map((b) => b.value), 1);
  const height = 22 * bars.length + 40;
  const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const body = bars
    .map((b, i) => {
      const y = 30 + i * 22;
      const width = Math.max(1, (b.value / max) * 420);
      const colour = b.label.includes("bearer-gate") ? "#2b7a3d" : "#8a8f98";
      return `<text x="370" y="${y + 14}" text-anchor="end">${esc(b.label)}</text><rect x="380" y="${y}" width="${width.toFixed(1)}" height="16" fill="${colour}"/><text x="${(385 + width).toFixed(1)}" y="${y + 13}">${b.value.toFixed(2)} ${b.unit}</text>`;
    })
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="920" height="${height}" font-family="sans-serif" font-size="12">\n<text x="10" y="18" font-weight="bold">bearer-gate and peers: ratio to the crypto floor (in-process) and to the bare app (HTTP); longer is faster</text>\n${body}\n</svg>\n`;
}
