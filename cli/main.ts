#!/usr/bin/env node
// The `bearer-gate` command: see `bearer-gate --help`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./run.js";

// dist/cjs/cli/main.js, three levels below the package's root
function packageVersion(): string {
  const { version } = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8")) as {
    version: string;
  };
  return version;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin,
  env: process.env,
  now: Date.now,
  version: packageVersion(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bearer-gate: unexpected error: ${String(error)}\n`);
    process.exitCode = 2;
  },
);
