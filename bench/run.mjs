// `npm run bench [-- --quick] [-- --write]`: bearer-gate side by side with the crypto floor and its
// peers, in one run, contenders alternating round by round so the machine's drift cancels.
// Prints medians and ratios; --write also records them in BENCHMARKS.md and bench/ratios.svg.
import {
  createHash,
  createHmac,
  createPublicKey,
  createSecretKey,
  timingSafeEqual,
  verify as cryptoVerify,
  webcrypto,
} from "node:crypto";
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
import { auth as oauth2 } from "express-oauth2-jwt-bearer";
import { CHANNELS, createVerifier } from "bearer-gate";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { requireToken as expressToken } from "bearer-gate/express";
import { requireToken as koaToken } from "bearer-gate/koa";
import { createDpopKey, hmacTokens } from "bearer-gate/testing";
// the built package's own modules, for what the cache counts per entry
import { entrySize, TOKEN_CACHE_DEFAULTS } from "../dist/esm/src/cache.js";
import { decodeJwt } from "../dist/esm/src/token/decode.js";
import { parseGroups, parseScopes } from "../dist/esm/src/access/scopes.js";
import { AUDIENCE, ISSUER, SECRET, curveKey, makeCognitoToken, makeToken, rsaKey, signHs256 } from "./tokens.mjs";

const { values: args } = parseArgs({ options: { quick: { type: "boolean" }, write: { type: "boolean" } } });
const QUICK = Boolean(args.quick);
const ROUNDS = QUICK ? 3 : 9;
const SLICE_MS = QUICK ? 60 : 250;
const DISTINCT = QUICK ? 2_000 : 10_000;
const HTTP_ROUNDS = QUICK ? 1 : 5;
const HTTP_SECONDS = QUICK ? 1 : 2;
const MEMORY_TOKENS = QUICK ? 100_000 : 1_000_000;
// the issue's workload: as many distinct Cognito-shaped tokens as the default cache holds, cycled
const COGNITO = 10_000;
const COGNITO_WORKLOAD = "10k Cognito-shaped, cycled";
const { maxEntries: DEFAULT_MAX_ENTRIES, maxBytes: DEFAULT_MAX_BYTES } = TOKEN_CACHE_DEFAULTS;
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
const started = Date.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (line) => process.stderr.write(`${line}\n`);

const key = rsaKey();
// the keys of ES256 and EdDSA tokens, served beside the RSA key
const keysOf = { RS256: key, ES256: curveKey("ES256"), EdDSA: curveKey("EdDSA") };
const jwksServer = createServer((_req, res) =>
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(JSON.stringify({ keys: [key.jwk, keysOf.ES256.jwk, keysOf.EdDSA.jwk] })),
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
  ES256(token) {
    const [h, p, s] = token.split(".");
    b64json(h);
    const ecKey = { key: keysOf.ES256.publicKey, dsaEncoding: "ieee-p1363" };
    if (!cryptoVerify("sha256", Buffer.from(`${h}.${p}`), ecKey, Buffer.from(s, "base64url")))
      throw new Error("signature");
    return floorCheck(b64json(p));
  },
  EdDSA(token) {
    const [h, p, s] = token.split(".");
    b64json(h);
    if (!cryptoVerify(null, Buffer.from(`${h}.${p}`), keysOf.EdDSA.publicKey, Buffer.from(s, "base64url")))
      throw new Error("signature");
    return floorCheck(b64json(p));
  },
};

// express-oauth2-jwt-bearer exports no verifier of its own: its middleware, called in-process
function oauth2Verifier(hs) {
  const middleware = hs
    ? oauth2({ issuer: ISSUER, audience: AUDIENCE, secret: SECRET, tokenSigningAlg: "HS256" })
    : oauth2({ issuer: ISSUER, audience: AUDIENCE, jwksUri });
  // the least of Express's request it reads
  const get = (name) => (name.toLowerCase() === "host" ? "127.0.0.1" : undefined);
  const is = () => false;
  return (header) =>
    new Promise((resolve, reject) => {
      const req = {
        headers: { host: "127.0.0.1", authorization: header },
        method: "GET",
        url: "/",
        query: {},
        get,
        is,
      };
      middleware(req, {}, (error) => (error ? reject(error) : resolve(req.auth)));
    });
}

// Each contender: [name, fn(token, header), isAsync]. bearer-gate and the middleware read the
// Authorization header a request would carry; the verifiers take the token.
// ES256 and EdDSA, distinct tokens only: the floor, bearer-gate, and the peers that verify them
async function curveContendersFor(alg) {
  const floor = floors[alg];
  const common = { issuer: ISSUER, audience: AUDIENCE };
  const ours = (tokenCache) => createVerifier({ jwksUri, algorithms: [alg], ...common, tokenCache });
  const cached = ours(undefined);
  const uncached = ours(false);
  const { publicKey, pem, jwk } = keysOf[alg];
  const cryptoKey = await jose.importJWK(jwk, alg);
  const fast = (cache) => fastJwt({ key: pem, algorithms: [alg], allowedIss: ISSUER, allowedAud: AUDIENCE, cache });
  const fastPlain = fast(false);
  const fastCached = fast(20_000);
  const list = [
    ["floor", (t) => floor(t)],
    ["bearer-gate", (_t, header) => cached.verify(header), true],
    ["bearer-gate (no cache)", (_t, header) => uncached.verify(header), true],
    ["jose jwtVerify (CryptoKey)", (t) => jose.jwtVerify(t, cryptoKey, { algorithms: [alg], ...common }), true],
    ["fast-jwt", (t) => fastPlain(t)],
    ["fast-jwt (cache 20k)", (t) => fastCached(t)],
  ];
  // jsonwebtoken has no EdDSA
  if (alg === "ES256")
    list.push(["jsonwebtoken (KeyObject)", (t) => jwt.verify(t, publicKey, { algorithms: [alg], ...common })]);
  return list;
}

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
  const keyObject = hs ? hmacKey : key.publicKey;
  // jose is at its fastest with a CryptoKey imported once (a KeyObject is converted on every call)
  const cryptoKey = hs
    ? await webcrypto.subtle.importKey("raw", Buffer.from(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"])
    : await jose.importJWK(key.jwk, "RS256");
  const oauth2Verify = oauth2Verifier(hs);
  const fast = (cache) =>
    fastJwt({ key: hs ? SECRET : key.pem, algorithms: [alg], allowedIss: ISSUER, allowedAud: AUDIENCE, cache });
  const fastPlain = fast(false);
  const fastCached = fast(20_000);
  const list = [
    ["floor", (t) => floor(t)],
    ["floor + Map", (t) => map.get(t) ?? (map.set(t, floor(t)), map.get(t))],
    ["bearer-gate", (_t, header) => cached.verify(header), true],
    ["bearer-gate (no cache)", (_t, header) => uncached.verify(header), true],
    [
      `jsonwebtoken (${hs ? "string" : "PEM"})`,
      (t) => jwt.verify(t, hs ? SECRET : key.pem, { algorithms: [alg], ...common }),
    ],
    ["jsonwebtoken (KeyObject)", (t) => jwt.verify(t, keyObject, { algorithms: [alg], ...common })],
    ["jose jwtVerify (CryptoKey)", (t) => jose.jwtVerify(t, cryptoKey, { algorithms: [alg], ...common }), true],
    ["express-oauth2-jwt-bearer", (_t, header) => oauth2Verify(header), true],
    ["fast-jwt", (t) => fastPlain(t)],
    ["fast-jwt (cache 20k)", (t) => fastCached(t)],
  ];
  if (!hs) list.push(["aws-jwt-verify (JWKS cached)", (t) => awsVerifier.verifySync(t)]);
  return list;
}

async function measure(fn, isAsync, tokens, headers) {
  let i = 0;
  let ops = 0;
  const start = performance.now();
  const end = start + SLICE_MS;
  while (performance.now() < end) {
    for (let k = 0; k < 64; k++) {
      const at = i++ % tokens.length;
      if (isAsync) await fn(tokens[at], headers[at]);
      else fn(tokens[at], headers[at]);
    }
    ops += 64;
  }
  return ops / ((performance.now() - start) / 1000);
}

const inProcess = [];
const cognitoTokens = {};
for (const alg of ["HS256", "RS256", "ES256", "EdDSA"]) {
  const curve = alg === "ES256" || alg === "EdDSA";
  log(`signing ${DISTINCT} distinct ${alg} tokens${curve ? "" : ` and ${COGNITO} Cognito-shaped ones`}...`);
  const distinct = Array.from({ length: DISTINCT }, (_, i) => makeToken(alg, i, keysOf[alg] ?? key));
  if (!curve) cognitoTokens[alg] = Array.from({ length: COGNITO }, (_, i) => makeCognitoToken(alg, i, key));
  const workloads = curve
    ? { distinct }
    : { repeated: [distinct[0]], distinct, [COGNITO_WORKLOAD]: cognitoTokens[alg] };
  for (const [workload, tokens] of Object.entries(workloads)) {
    const headers = tokens.map((token) => `Bearer ${token}`);
    // fresh contenders for each workload, so no cache starts with another workload's tokens; one
    // full pass each: every contender accepts every token, and caches start in their steady state
    const contenders = curve ? await curveContendersFor(alg) : await contendersFor(alg);
    for (const [, fn, isAsync] of contenders) {
      for (let at = 0; at < tokens.length; at++)
        await (isAsync ? fn(tokens[at], headers[at]) : fn(tokens[at], headers[at]));
    }
    const samples = new Map(contenders.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
      for (const [name, fn, isAsync] of order) samples.get(name).push(await measure(fn, isAsync, tokens, headers));
    }
    const floorOps = median(samples.get("floor"));
    for (const [name, xs] of samples)
      inProcess.push({ alg, workload, name, ops: median(xs), ratio: median(xs) / floorOps });
    log(`${alg} ${workload}: done`);
  }
}

// ---- 1b. the middleware alone ----------------------------------------------------------------
// requireToken called in-process with the least of a request each framework hands it, against the
// floor-plus-cache reference called the same way: the per-request cost of the header read, the
// cache lookup, the auth context and the promise chain, without HTTP's noise
const middleware = [];
{
  const floorMiddleware = () => {
    const seen = new Map();
    return (header) => {
      let claims = seen.get(header);
      if (claims === undefined) seen.set(header, (claims = b64json(header.split(".")[1])));
      if (!(claims.exp > Date.now() / 1000)) throw new Error("expired");
      return claims;
    };
  };
  const next = () => undefined;
  const nextAsync = () => Promise.resolve();
  for (const alg of ["RS256", "HS256"]) {
    const source = alg === "HS256" ? { secret: SECRET } : { jwksUri };
    const options = { ...source, issuer: ISSUER, audience: AUDIENCE };
    const workloads = { repeated: [makeToken(alg, 0, key)], [COGNITO_WORKLOAD]: cognitoTokens[alg] };
    for (const [workload, tokens] of Object.entries(workloads)) {
      // every request brings a header string of its own, as Node's parser makes one per request:
      // both sides pay for making it, and neither finds its hash already computed
      const bytes = tokens.map((token) => Buffer.from(`Bearer ${token}`, "latin1"));
      const rawHeaders = (at) => ["Host", "127.0.0.1", "Authorization", bytes[at].toString("latin1"), "Accept", "*/*"];
      const expressOurs = expressToken(options);
      const koaOurs = koaToken(options);
      const expressRef = floorMiddleware();
      const koaRef = floorMiddleware();
      const res = { headersSent: false };
      const contenders = [
        [
          "express: floor-plus-cache reference",
          (at) => {
            const raw = rawHeaders(at);
            const req = { rawHeaders: raw, headers: { authorization: raw[3] } };
            req.auth = expressRef(req.headers.authorization);
            next();
          },
        ],
        ["express: requireToken", (at) => expressOurs({ rawHeaders: rawHeaders(at) }, res, next)],
        [
          "koa: floor-plus-cache reference",
          async (at) => {
            const raw = rawHeaders(at);
            const ctx = { req: { rawHeaders: raw }, headers: { authorization: raw[3] }, state: {} };
            ctx.state.auth = koaRef(ctx.headers.authorization);
            await nextAsync();
          },
          true,
        ],
        [
          "koa: requireToken",
          (at) => koaOurs({ req: { rawHeaders: rawHeaders(at) }, state: {}, headerSent: false }, nextAsync),
          true,
        ],
      ];
      for (const [, fn, isAsync] of contenders)
        for (let at = 0; at < tokens.length; at++) await (isAsync ? fn(at) : fn(at));
      const samples = new Map(contenders.map(([name]) => [name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, fn, isAsync] of contenders) {
          let done = 0;
          const start = performance.now();
          while (performance.now() - start < SLICE_MS) {
            for (let k = 0; k < 64; k++) {
              const at = (done + k) % tokens.length;
              if (isAsync) await fn(at);
              else fn(at);
            }
            done += 64;
          }
          samples.get(name).push(((performance.now() - start) * 1000) / done);
        }
      }
      for (const [name] of contenders) {
        const framework = name.split(":")[0];
        const reference = median(samples.get(`${framework}: floor-plus-cache reference`));
        middleware.push({
          alg,
          workload,
          name,
          micros: median(samples.get(name)),
          ratio: median(samples.get(name)) / reference,
        });
      }
    }
  }
  log("middleware in-process: done");
}

// ---- 1c. events: what a cache hit pays for CHANNELS.verification, with no subscriber and with one
const events = {};
{
  const verifier = createVerifier({ jwksUri, issuer: ISSUER, audience: AUDIENCE });
  const header = `Bearer ${makeToken("RS256", 0, key)}`;
  await verifier.verify(header);
  const noop = () => undefined;
  const samples = { none: [], subscribed: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ["none", "subscribed"]) {
      if (mode === "subscribed") subscribe(CHANNELS.verification, noop);
      samples[mode].push(await measure((_t, h) => verifier.verify(h), true, [header], [header]));
      if (mode === "subscribed") unsubscribe(CHANNELS.verification, noop);
    }
  }
  events.none = median(samples.none);
  events.subscribed = median(samples.subscribed);
  log("events: done");
}

// ---- 1d. DPoP: a request with its proof (ES256, the in-memory replay store) next to a plain bearer
// request, both a cache hit of one HS256 token, and the reference the issue sets: the plain request
// plus one ES256 verification and one SHA-256 of the token
const dpop = {};
{
  const origin = "https://api.bench.local";
  const url = `${origin}/orders`;
  const tokens = hmacTokens(SECRET);
  const dpopKey = createDpopKey("ES256");
  const plainHeader = `Bearer ${tokens.access()}`;
  const bound = tokens.access({ dpopKey });
  const boundHeader = `DPoP ${bound}`;
  const plain = createVerifier(tokens.options());
  const bindingVerifier = createVerifier(tokens.options({ dpop: { origin, maxAgeSeconds: 300 } }));
  // every proof is taken once: as many as the rounds can use, made before any is timed
  const count = ROUNDS * SLICE_MS * 30 + 2_000;
  log(`signing ${count} DPoP proofs...`);
  const proofs = Array.from({ length: count }, () => dpopKey.proof({ method: "GET", url, accessToken: bound }));
  const proofKey = { key: createPublicKey({ key: dpopKey.publicJwk, format: "jwk" }), dsaEncoding: "ieee-p1363" };
  let next = 0;
  const take = () => proofs[next++];
  const contenders = [
    ["bearer", () => plain.verify(plainHeader)],
    [
      "bearer + ES256 + SHA-256 (reference)",
      async () => {
        const proof = take();
        const auth = await plain.verify(plainHeader);
        const dot = proof.lastIndexOf(".");
        const input = Buffer.from(proof.slice(0, dot));
        if (!cryptoVerify("sha256", input, proofKey, Buffer.from(proof.slice(dot + 1), "base64url")))
          throw new Error("signature");
        createHash("sha256").update(auth.token).digest("base64url");
        return auth;
      },
    ],
    ["DPoP", () => bindingVerifier.verify(boundHeader, { method: "GET", path: "/orders", dpop: take() })],
  ];
  for (const [, fn] of contenders) await fn();
  const samples = new Map(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const [name, fn] = contenders[(i + round) % contenders.length];
      samples.get(name).push(await measure(fn, true, [undefined], [undefined]));
    }
  }
  if (next > proofs.length) throw new Error("the DPoP rows ran out of proofs");
  for (const [name, xs] of samples) dpop[name] = median(xs);
  log("dpop: done");
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
// the distinct-token workload: requireToken and the reference, against the bare apps
const DISTINCT_APPS = APPS.filter((name) => /bare|floor cache|\+ bearer-gate$/.test(name));
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
// the next message from an app process (or its exit, as an error); no listener is left behind
const reply = (child) =>
  new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`an app exited with ${code}`));
    child.once("exit", onExit);
    child.once("message", (message) => {
      child.off("exit", onExit);
      resolve(message);
    });
  });
async function startApp(name, alg) {
  const child = fork(new URL("./apps.mjs", import.meta.url), [name, alg, jwksUri], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, BENCH_REDIS_URL: redis?.url ?? "" },
  });
  const { port } = await reply(child);
  return { child, url: `http://127.0.0.1:${port}/` };
}
// requests a second over the window, and the app process's CPU time (user + system) per request
async function load(app, tokens, seconds) {
  let next = 0;
  const options = { url: app.url, connections: 16, duration: seconds };
  if (tokens.length === 1) options.headers = { authorization: `Bearer ${tokens[0]}` };
  else {
    options.requests = [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
      },
    ];
  }
  app.child.send("cpu-start");
  await reply(app.child);
  const result = await autocannon(options);
  app.child.send("cpu-stop");
  const { cpuMicros } = await reply(app.child);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${app.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const requests = result["2xx"];
  return { rps: requests / seconds, cpu: cpuMicros / requests };
}
const http = [];
for (const alg of ["RS256", "HS256"]) {
  const workloads = { repeated: [makeToken(alg, 0, key)], [COGNITO_WORKLOAD]: cognitoTokens[alg] };
  const apps = [];
  for (const name of APPS) apps.push([name, await startApp(name, alg)]);
  for (const [workload, tokens] of Object.entries(workloads)) {
    const names = workload === "repeated" ? APPS : DISTINCT_APPS;
    const running = apps.filter(([name]) => names.includes(name));
    // warm: keys fetched, code optimised, and every distinct token seen once
    for (const [, app] of running) await load(app, tokens, QUICK ? 1 : 2);
    const samples = new Map(names.map((name) => [name, []]));
    for (let round = 0; round < HTTP_ROUNDS; round++) {
      for (let i = 0; i < running.length; i++) {
        const [name, app] = running[(i + round) % running.length];
        samples.get(name).push(await load(app, tokens, HTTP_SECONDS));
      }
    }
    const medianOf = (name, field) => median(samples.get(name).map((sample) => sample[field]));
    for (const name of names) {
      const framework = name.split(" ")[0];
      const bare = `${framework} bare`;
      const reference = `${framework} + floor cache`;
      const added = medianOf(name, "cpu") - medianOf(bare, "cpu");
      http.push({
        alg,
        workload,
        name,
        rps: medianOf(name, "rps"),
        ratio: medianOf(name, "rps") / medianOf(bare, "rps"),
        cpu: medianOf(name, "cpu"),
        added,
        addedRatio: name === bare ? undefined : added / (medianOf(reference, "cpu") - medianOf(bare, "cpu")),
      });
    }
    log(`HTTP ${alg} ${workload}: done`);
  }
  // wait for the apps to be gone, so none is still running (or reconnecting to Redis) during what follows
  await Promise.all(
    apps.map(([, { child }]) => new Promise((resolve) => (child.once("exit", resolve), child.disconnect()))),
  );
}
if (redis) await new Promise((resolve) => (redis.child.once("exit", resolve), redis.child.kill()));

// ---- 3. memory -------------------------------------------------------------------------------
const MB = 1024 * 1024;
const heapUsed = () => (gc(), gc(), process.memoryUsage().heapUsed);
// (a) a million distinct tokens through the default cache: the heap stays within its bound
log(`verifying ${MEMORY_TOKENS} distinct HS256 tokens...`);
const memVerifier = createVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE });
const before = heapUsed();
let lastAuth;
for (let i = 0; i < MEMORY_TOKENS; i++)
  lastAuth = await memVerifier.verify(`Bearer ${makeToken("HS256", 1_000_000 + i)}`);
const after = heapUsed();
// the verifier is used after the measure, so it (and its cache, full after the first 10,000
// tokens) was alive during it
await memVerifier.verify(`Bearer ${lastAuth.token}`);
const memory = {
  tokens: MEMORY_TOKENS,
  heapGrowthMb: (after - before) / MB,
  heapMb: after / MB,
  rssMb: process.memoryUsage().rss / MB,
  boundMb: DEFAULT_MAX_BYTES / MB,
};
// (b) what an entry really takes against what the cache counts for it, for token shapes made to be
// expensive: the count must be an upper bound
const now = Math.floor(Date.now() / 1000);
const base = (i) => ({ iss: ISSUER, aud: AUDIENCE, sub: `user-${i}`, exp: now + 3600 });
const CUT_FROM_COOKIE = "Cognito-shaped (RS256), cut from a 16 KB cookie";
const FAMILIES = {
  "Cognito-shaped (RS256)": (i) => cognitoTokens.RS256[i],
  // getToken's shape: the token sliced out of a 16 KB cookie, which a sliced string keeps alive
  [CUT_FROM_COOKIE]: (i) => cognitoTokens.RS256[i],
  "40 small objects": (i) =>
    signHs256({
      ...base(i),
      permissions: Array.from({ length: 40 }, (_, k) => ({ id: k, actions: ["read", "write"] })),
    }),
  "150 empty objects": (i) => signHs256({ ...base(i), e: Array.from({ length: 150 }, () => ({})) }),
  "150 small lists": (i) => signHs256({ ...base(i), m: Array.from({ length: 150 }, (_, k) => [k, k + 1]) }),
  "16 keys new to every token": (i) =>
    signHs256({
      ...base(i),
      roles: Object.fromEntries(Array.from({ length: 16 }, (_, k) => [`project-${i}-${k}`, 1])),
    }),
};
const ENTRIES = QUICK ? 2_000 : 5_000;
// a request's token, as the verifier is handed it: from an Authorization header, or cut from a cookie
function present(verifier, family, token) {
  if (family !== CUT_FROM_COOKIE) return verifier.verify(`Bearer ${token}`);
  const cookie = `session=${"x".repeat(16_000)}; token=${token}; theme=dark`;
  return verifier.verifyToken(cookie.slice(cookie.indexOf("token=") + 6, cookie.indexOf("; theme")));
}
const entryRows = [];
for (const [family, make] of Object.entries(FAMILIES)) {
  const tokens = Array.from({ length: ENTRIES }, (_, i) => make(i));
  let counted = 0;
  for (const token of tokens.slice(1)) {
    const { payload, heapBytes } = decodeJwt(token);
    counted += entrySize(token, parseScopes(payload.scope), heapBytes, parseGroups(payload["cognito:groups"]));
  }
  const source = family.includes("RS256") ? { jwksUri } : { secret: SECRET };
  const tokenCache = { maxEntries: ENTRIES, maxBytes: 2 ** 40 }; // room for every one
  const verifier = createVerifier({ ...source, issuer: ISSUER, audience: AUDIENCE, tokenCache });
  await verifier.verify(`Bearer ${tokens[0]}`); // the keys downloaded, the code warm
  const start = heapUsed();
  // each Authorization header is made here and dropped once verified, as a request's would be
  for (let i = 1; i < ENTRIES; i++) await present(verifier, family, tokens[i]);
  const end = heapUsed();
  const last = `Bearer ${tokens[ENTRIES - 1]}`;
  if ((await verifier.verify(last)).claims !== (await verifier.verify(last)).claims)
    throw new Error(`${family}: the cache should hold every token`);
  entryRows.push({
    family,
    chars: tokens[1].length,
    measured: (end - start) / (ENTRIES - 1),
    counted: counted / (ENTRIES - 1),
  });
}
const cognitoCounted = entryRows[0].counted;
const defaultHolds = Math.min(DEFAULT_MAX_ENTRIES, Math.floor(DEFAULT_MAX_BYTES / cognitoCounted));
jwksServer.close();

// ---- report ----------------------------------------------------------------------------------
const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2));
const find = (rows, alg, workload, name) =>
  rows.find((row) => row.alg === alg && row.workload === workload && row.name === name);
const lines = [];
lines.push(
  `In-process verification, ops/s (median of ${ROUNDS} alternating rounds of ${SLICE_MS} ms). Workloads: one token`,
  `repeated; ${DISTINCT.toLocaleString("en-US")} distinct small tokens cycled; ${COGNITO.toLocaleString("en-US")} distinct Cognito-shaped tokens (about 1,000`,
  "characters in RS256) cycled. bearer-gate and express-oauth2-jwt-bearer are given the Authorization header, the",
  "others the token.",
  "",
);
lines.push("| alg | workload | contender | ops/s | x floor |", "| --- | --- | --- | ---: | ---: |");
for (const row of inProcess)
  lines.push(`| ${row.alg} | ${row.workload} | ${row.name} | ${fmt(row.ops)} | ${row.ratio.toFixed(2)} |`);
lines.push(
  "",
  `The middleware alone, called in-process with the least of a request each framework hands it, µs per request (median`,
  `of ${ROUNDS} rounds of ${SLICE_MS} ms), against the floor-plus-cache reference middleware called the same way:`,
  "",
  "| alg | workload | middleware | µs/request | x reference |",
  "| --- | --- | --- | ---: | ---: |",
  ...middleware.map(
    (row) => `| ${row.alg} | ${row.workload} | ${row.name} | ${row.micros.toFixed(3)} | ${row.ratio.toFixed(2)} |`,
  ),
);
lines.push(
  "",
  `HTTP on 127.0.0.1, requests/s and the app process's CPU time per request (median of ${HTTP_ROUNDS} alternating rounds of`,
  `${HTTP_SECONDS} s, 16 connections). "Added" is the CPU per request over the bare app's; "x ref" divides it by what the`,
  "floor-plus-cache reference middleware adds (a Map lookup of the header and an exp check) in the same run.",
  "",
);
lines.push(
  "| alg | workload | app | req/s | x bare | CPU µs/req | added µs/req | added x ref |",
  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
);
for (const row of http) {
  const addedRatio = row.addedRatio === undefined ? "" : row.addedRatio.toFixed(2);
  const added = row.name.endsWith("bare") ? "" : row.added.toFixed(1);
  lines.push(
    `| ${row.alg} | ${row.workload} | ${row.name} | ${fmt(row.rps)} | ${row.ratio.toFixed(2)} | ${row.cpu.toFixed(1)} | ${added} | ${addedRatio} |`,
  );
}
const revocationRows = http.filter((row) => row.name.endsWith("+ redis revocation"));
if (revocationRows.length > 0) {
  lines.push("", "The Redis revocation list (one MGET per request) against the same app without it:", "");
  for (const row of revocationRows) {
    const without = find(http, row.alg, row.workload, row.name.replace(" + redis revocation", ""));
    lines.push(`- ${row.alg} ${row.name}: ${(row.rps / without.rps).toFixed(2)}x the requests/s of ${without.name}`);
  }
}
lines.push(
  "",
  `Memory after verifying ${memory.tokens.toLocaleString("en-US")} distinct HS256 tokens with the default cache (bound ${memory.boundMb} MiB): heap ${memory.heapMb.toFixed(1)} MB (grew ${memory.heapGrowthMb.toFixed(1)} MB), RSS ${memory.rssMb.toFixed(1)} MB`,
  "",
  `What a cache entry takes on the heap (measured: heap growth over ${(ENTRIES - 1).toLocaleString("en-US")} entries, after GC) against what the cache`,
  "counts for it (the bound it keeps within): the count must stay above.",
  "",
  "| tokens | characters | measured bytes/entry | counted bytes/entry | measured / counted |",
  "| --- | ---: | ---: | ---: | ---: |",
);
for (const row of entryRows) {
  lines.push(
    `| ${row.family} | ${row.chars} | ${Math.round(row.measured)} | ${Math.round(row.counted)} | ${(row.measured / row.counted).toFixed(2)} |`,
  );
}
lines.push(
  "",
  `The default cache (${DEFAULT_MAX_ENTRIES.toLocaleString("en-US")} entries, ${DEFAULT_MAX_BYTES / MB} MiB) holds ${defaultHolds.toLocaleString("en-US")} Cognito-shaped tokens.`,
);

lines.push(
  "",
  `Events (node:diagnostics_channel): a cache hit (RS256, repeated) with no subscriber on ${CHANNELS.verification}: ` +
    `${fmt(events.none)} ops/s; with one: ${fmt(events.subscribed)} ops/s (${(events.subscribed / events.none).toFixed(2)}x). ` +
    "With no subscriber nothing is built: the rows above are that case.",
);

const dpopReference = dpop["bearer + ES256 + SHA-256 (reference)"];
lines.push(
  "",
  "DPoP (RFC 9449): one HS256 token, a cache hit, sent as a bearer token, and bound to an ES256 key and sent with a",
  "fresh proof each time (the in-memory replay store), beside the reference the issue sets: the bearer request",
  "plus one ES256 verification and one SHA-256 of the token. ops/s, same run:",
  "",
  "| request | ops/s | x bearer | x reference |",
  "| --- | ---: | ---: | ---: |",
  ...Object.entries(dpop).map(
    ([name, ops]) =>
      `| ${name} | ${fmt(ops)} | ${(ops / dpop.bearer).toFixed(2)} | ${(ops / dpopReference).toFixed(2)} |`,
  ),
);

// the bars of the performance issue, as this run measured them
const inp = (alg, workload, name) => find(inProcess, alg, workload, name).ratio;
const ops = (alg, workload, name) => find(inProcess, alg, workload, name).ops;
const checks = [];
const check = (what, pass) => checks.push(`- ${pass ? "met" : "NOT MET"}: ${what}`);
const PEERS_OFF = ["jsonwebtoken (KeyObject)", "jose jwtVerify (CryptoKey)", "express-oauth2-jwt-bearer"];
// the signatures issue's bars: RS256 >= 0.95x the floor, HS256, ES256 and EdDSA >= 0.9x
const FLOOR_BARS = { HS256: 0.9, RS256: 0.95, ES256: 0.9, EdDSA: 0.9 };
for (const alg of ["ES256", "EdDSA"]) {
  const off = inp(alg, "distinct", "bearer-gate (no cache)");
  check(`${alg} distinct, cache off: ${off.toFixed(2)}x the floor (bar ${FLOOR_BARS[alg]})`, off >= FLOOR_BARS[alg]);
  for (const peer of [
    "jose jwtVerify (CryptoKey)",
    "fast-jwt",
    ...(alg === "ES256" ? ["jsonwebtoken (KeyObject)"] : []),
  ]) {
    const theirs = inp(alg, "distinct", peer);
    check(`${alg} distinct, cache off, ahead of ${peer}: ${off.toFixed(2)} vs ${theirs.toFixed(2)}`, off > theirs);
  }
}
{
  const off = inp("RS256", "distinct", "bearer-gate (no cache)");
  const fast = inp("RS256", "distinct", "fast-jwt");
  check(`RS256 distinct, cache off, at least fast-jwt's figure: ${(off / fast).toFixed(3)}x (bar 1.00)`, off >= fast);
}
for (const alg of ["HS256", "RS256"]) {
  const off = inp(alg, "distinct", "bearer-gate (no cache)");
  check(`${alg} distinct, cache off: ${off.toFixed(2)}x the floor (bar ${FLOOR_BARS[alg]})`, off >= FLOOR_BARS[alg]);
  const peers = [...PEERS_OFF, ...(alg === "RS256" ? ["aws-jwt-verify (JWKS cached)", "fast-jwt"] : [])];
  for (const peer of peers) {
    const theirs = inp(alg, "distinct", peer);
    check(`${alg} distinct, cache off, ahead of ${peer}: ${off.toFixed(2)} vs ${theirs.toFixed(2)}`, off > theirs);
  }
  if (alg === "HS256") {
    const fast = inp(alg, "distinct", "fast-jwt");
    check(`HS256 distinct, cache off, within 0.8x of fast-jwt: ${(off / fast).toFixed(2)}x`, off / fast >= 0.8);
  }
  const cycled = ops(alg, COGNITO_WORKLOAD, "bearer-gate");
  const cycledOff = ops(alg, COGNITO_WORKLOAD, "bearer-gate (no cache)");
  check(
    `${alg} ${COGNITO_WORKLOAD}, default cache >= cache off: ${fmt(cycled)} vs ${fmt(cycledOff)} ops/s`,
    cycled >= cycledOff,
  );
  const repeated = ops(alg, "repeated", "bearer-gate") / ops(alg, "repeated", "fast-jwt (cache 20k)");
  check(`${alg} repeated: ${repeated.toFixed(2)}x fast-jwt with its 20k cache (bar 2)`, repeated >= 2);
}
for (const framework of ["express", "koa"]) {
  const row = find(http, "RS256", "repeated", `${framework} + bearer-gate`);
  check(
    `${framework} RS256 repeated, CPU added: ${row.addedRatio.toFixed(2)}x the reference's (bar 1.3)`,
    row.addedRatio <= 1.3,
  );
  for (const alg of ["RS256", "HS256"]) {
    const ours = find(http, alg, "repeated", `${framework} + bearer-gate`).rps;
    const peers = http.filter(
      (r) =>
        r.alg === alg &&
        r.workload === "repeated" &&
        r.name.startsWith(`${framework} + `) &&
        !/bearer-gate|floor/.test(r.name),
    );
    for (const peer of peers)
      check(`${framework} ${alg} req/s ahead of ${peer.name}: ${fmt(ours)} vs ${fmt(peer.rps)}`, ours > peer.rps);
  }
}
for (const row of middleware.filter((r) => r.name.endsWith("requireToken"))) {
  check(
    `${row.name} alone, ${row.alg} ${row.workload}: ${row.ratio.toFixed(2)}x the reference's time per request (bar 1.3)`,
    row.ratio <= 1.3,
  );
}
for (const row of entryRows)
  check(
    `memory, ${row.family}: measured ${(row.measured / row.counted).toFixed(2)}x the count`,
    row.measured <= row.counted,
  );
check(
  `the default cache holds 10,000 Cognito-shaped tokens: ${defaultHolds.toLocaleString("en-US")}`,
  defaultHolds >= 10_000,
);
check(
  `heap after ${memory.tokens.toLocaleString("en-US")} distinct tokens grew ${memory.heapGrowthMb.toFixed(1)} MB (bound ${memory.boundMb} MiB)`,
  memory.heapGrowthMb <= memory.boundMb,
);
lines.push("", "The bars of the performance work, in this run:", "", ...checks);
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
      .filter((r) => !r.name.startsWith("floor") && (r.workload !== "repeated" || r.alg === "RS256"))
      .map((r) => ({ label: `${r.alg} ${r.workload}: ${r.name}`, value: r.ratio, unit: "x floor" })),
    ...httpRows
      .filter((r) => !r.name.endsWith("bare"))
      .map((r) => ({ label: `HTTP ${r.alg} ${r.workload}: ${r.name}`, value: r.ratio, unit: "x bare" })),
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
