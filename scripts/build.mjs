// Builds dist/cjs and dist/esm with tsc, then marks each folder's module kind so Node and
// TypeScript read the .js and .d.ts files in it as CommonJS or ESM respectively.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync("dist", { recursive: true, force: true });
for (const [config, dir, type] of [
  ["tsconfig.build.json", "dist/cjs", "commonjs"],
  ["tsconfig.build.esm.json", "dist/esm", "module"],
]) {
  execFileSync(process.execPath, [tsc, "-p", config], { stdio: "inherit" });
  writeFileSync(`${dir}/package.json`, JSON.stringify({ type }) + "\n");
}
