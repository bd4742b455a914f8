// `npm run bench:profile -- HS256|RS256 [miss|hit]`: where one verification's time goes. Runs the
// built verifier under --cpu-prof in a child process and prints the functions with the most self time.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [alg = "HS256", path = "miss"] = process.argv.slice(2);
if (process.env.BEARER_GATE_PROFILE_CHILD !== "1") {
  const dir = mkdtempSync(join(tmpdir(), "bearer-gate-profile-"));
  const out = execFileSync(
    process.execPath,
    ["--cpu-prof", `--cpu-prof-dir=${dir}`, new URL(import.meta.url).pathname, alg, path],
    {
      env: { ...process.env, BEARER_GATE_PROFILE_CHILD: "1" },
      encoding: "utf8",
    },
  );
  process.stdout.write(out);
  const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = `${functionName || "(anonymous)"} ${url.replace(/^.*node_modules\//, "").replace(/^.*\/dist\//, "dist/")}:${lineNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + (profile.timeDeltas[i] ?? 0));
    total += profile.timeDeltas[i] ?? 0;
  });
  for (const [where, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${where}`);
  }
} else {
  const { createServer } = await import("node:http");
  const { createVerifier } = await import("bearer-gate");
  const { AUDIENCE, ISSUER, SECRET, makeToken, rsaKey } = await import("./tokens.mjs");
  const key = rsaKey();
  const jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [key.jwk] }))).listen(0, "127.0.0.1");
  await new Promise((resolve) => jwks.once("listening", resolve));
  const tokenCache = path === "hit" ? undefined : false;
  const source =
    alg === "HS256" ? { secret: SECRET } : { jwksUri: `http://127.0.0.1:${jwks.address().port}/jwks.json` };
  const verifier = createVerifier({ ...source, issuer: ISSUER, audience: AUDIENCE, tokenCache });
  const tokens = Array.from({ length: 2000 }, (_, i) => `Bearer ${makeToken(alg, i, key)}`);
  const count = path === "hit" ? 2_000_000 : alg === "HS256" ? 300_000 : 40_000;
  const start = performance.now();
  for (let i = 0; i < count; i++) await verifier.verify(tokens[i % tokens.length]);
  console.log(
    `${alg} ${path}: ${Math.round(count / ((performance.now() - start) / 1000)).toLocaleString("en-US")} verifications/s`,
  );
  jwks.close();
}
