import { parseArgs } from "node:util";
import {
  ConfigError,
  createVerifier,
  errorResponse,
  missingScopes,
  parseScopes,
  TokenError,
  type VerifierOptions,
} from "../src/index.js";

/** Where the CLI reads and writes, so tests can run it in-process. */
export interface Io {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readStdin(): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds since the epoch. */
  now(): number;
}

const USAGE = {
  main: `Usage: bearer-gate <command> [options]

Commands:
  inspect <token|->   decode a token and explain it (nothing is verified)
  verify <token|->    verify a token as the middleware would, and show the answer

Pass - to read the token from standard input (it stays out of your shell history).
Run bearer-gate <command> --help for a command's options.`,
  inspect: `Usage: bearer-gate inspect <token|-> [--json]

Decodes the header and claims without any key: times as dates with how long ago or how long left,
the scopes as a list, and the kind of token it claims to be. Nothing is verified.

Exit codes: 0 decoded, 1 not a decodable JWT, 2 usage error.`,
  verify: `Usage: bearer-gate verify <token|-> (--secret S | --cognito-pool ID [--client-id C] | --jwks-uri URL)
                           [--issuer I] [--audience A] [--scope S]... [--allow-short-secret] [--json]

Runs the real verifier and prints the auth context, or the exact response the middleware would send
(status, WWW-Authenticate, body) and the reason. --scope may repeat: every listed scope is required.
--allow-short-secret accepts a secret shorter than its algorithm needs (RFC 7518), with a warning.

Exit codes: 0 valid, 1 refused, 2 usage or configuration error.`,
} as const;

/** Runs the CLI; resolves to the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const colour = Boolean(io.stdout.isTTY) && io.env["NO_COLOR"] === undefined;
  const paint = (code: string, text: string): string => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  try {
    if (command === "inspect" || command === "verify") {
      const { values, positionals } = parseArgs({
        args: [...rest],
        options: OPTIONS[command],
        allowPositionals: true,
        strict: true,
      });
      if (values.help === true) return usage(io, command, 0);
      if (positionals.length !== 1) return usage(io, command, 2);
      const raw = positionals[0] === "-" ? await io.readStdin() : String(positionals[0]);
      const token = raw.trim().replace(/^bearer\s+/i, "");
      return command === "inspect" ? inspect(token, values, io, paint) : await verify(token, values, io, paint);
    }
    return usage(io, "main", command === "--help" || command === "-h" ? 0 : 2);
  } catch (error) {
    // a bad option, or a bad command line (parseArgs throws errors coded ERR_PARSE_ARGS_*)
    const code = (error as { code?: unknown }).code;
    const usageError = error instanceof ConfigError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
    if (!usageError) throw error;
    io.stderr.write(`${paint("31", "error")}: ${(error as Error).message}\n`);
    return 2;
  }
}

const OPTIONS = {
  inspect: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  verify: {
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
    secret: { type: "string" },
    "allow-short-secret": { type: "boolean" },
    "cognito-pool": { type: "string" },
    "client-id": { type: "string" },
    "jwks-uri": { type: "string" },
    issuer: { type: "string" },
    audience: { type: "string" },
    scope: { type: "string", multiple: true },
  },
} as const;

type Paint = (code: string, text: string) => string;
type Values = Readonly<Record<string, unknown>>;

function usage(io: Io, command: keyof typeof USAGE, code: number): number {
  (code === 0 ? io.stdout : io.stderr).write(`${USAGE[command]}\n`);
  return code;
}

function inspect(token: string, values: Values, io: Io, paint: Paint): number {
  const decoded = decodeUnverified(token);
  if (decoded === undefined) {
    io.stderr.write(
      `${paint("31", "not a JWT")}: expected three base64url segments whose first two are JSON objects\n`,
    );
    return 1;
  }
  const { header, claims } = decoded;
  const now = io.now() / 1000;
  const times = Object.fromEntries(
    (["iat", "nbf", "exp", "auth_time"] as const)
      .filter((name) => typeof claims[name] === "number")
      .map((name) => [name, describeTime(claims[name] as number, now)]),
  );
  let scopes: readonly string[] | null;
  try {
    scopes = parseScopes(claims["scope"]);
  } catch {
    scopes = null;
  }
  const kind = kindOf(claims);
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify({ verified: false, kind, header, claims, times, scopes }, null, 2)}\n`);
    return 0;
  }
  const lines = [
    paint("33", "NOT VERIFIED: decoded only. Nothing here proves who signed this token or that it is valid."),
    "",
    `${paint("1", "Kind")}     ${kind}`,
    `${paint("1", "Header")}   ${JSON.stringify(header)}`,
    `${paint("1", "Claims")}   ${JSON.stringify(claims, null, 2).replace(/\n/g, "\n         ")}`,
    ...Object.entries(times).map(([name, text]) => `${paint("1", name.padEnd(9))}${text}`),
    `${paint("1", "Scopes")}   ${scopes === null ? "(the scope claim is neither a string nor a list)" : scopes.length > 0 ? scopes.join(", ") : "(none)"}`,
  ];
  io.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

async function verify(token: string, values: Values, io: Io, paint: Paint): Promise<number> {
  const options: VerifierOptions = {};
  const string = (name: string): string | undefined => (typeof values[name] === "string" ? values[name] : undefined);
  if (string("secret") !== undefined) options.secret = string("secret");
  if (values["allow-short-secret"] === true) options.allowShortSecret = true;
  if (string("jwks-uri") !== undefined) options.jwksUri = string("jwks-uri");
  const pool = string("cognito-pool");
  if (pool !== undefined) options.cognito = { userPoolId: pool, clientId: string("client-id") };
  else if (string("client-id") !== undefined) throw new ConfigError("--client-id goes with --cognito-pool.");
  if (string("issuer") !== undefined) options.issuer = string("issuer");
  if (string("audience") !== undefined) options.audience = string("audience");
  const required = (values["scope"] as string[] | undefined) ?? [];
  const verifier = createVerifier({ ...options, tokenCache: false, clock: () => io.now() });
  try {
    const auth = await verifier.verifyToken(token);
    const missing = required.length > 0 ? missingScopes(auth.scopes, required) : [];
    if (missing.length > 0) throw new TokenError("insufficient_scope", missing);
    const result = {
      valid: true,
      claims: auth.claims,
      scopes: auth.scopes,
      expiresAt: auth.expiresAt.toISOString(),
      expiresIn: auth.expiresIn,
    };
    io.stdout.write(
      values.json === true
        ? `${JSON.stringify(result, null, 2)}\n`
        : `${paint("32", "VALID")}: the middleware would let this request through.\n${JSON.stringify(result, null, 2)}\n`,
    );
    return 0;
  } catch (error) {
    const refusal = error instanceof TokenError ? error : new TokenError("internal_error", undefined, { cause: error });
    const response = errorResponse(refusal);
    const cause = refusal.cause instanceof Error ? refusal.cause.message : undefined;
    const result = { valid: false, reason: refusal.reason, detail: cause, response };
    io.stdout.write(
      values.json === true
        ? `${JSON.stringify(result, null, 2)}\n`
        : [
            `${paint("31", "REFUSED")}: ${refusal.reason}${cause === undefined ? "" : ` (${cause})`}`,
            "The middleware would answer:",
            `  HTTP ${response.status}`,
            ...Object.entries(response.headers).map(([name, value]) => `  ${name}: ${value}`),
            `  ${JSON.stringify(response.body)}`,
            "",
          ].join("\n"),
    );
    return 1;
  }
}

function decodeUnverified(
  token: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const [header, claims] = parts
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown);
    const isObject = (value: unknown): value is Record<string, unknown> =>
      value !== null && typeof value === "object" && !Array.isArray(value);
    return isObject(header) && isObject(claims) ? { header, claims } : undefined;
  } catch {
    return undefined;
  }
}

function kindOf(claims: Record<string, unknown>): string {
  if (claims["token_use"] === "access") return "Cognito access token";
  if (claims["token_use"] === "id") return "Cognito ID token";
  if (claims["token_type"] === "access") return "the API's access token";
  if (claims["token_type"] === "refresh") return "the API's refresh token (never accepted as an access token)";
  return "unknown (no token_use or token_type claim)";
}

function describeTime(seconds: number, now: number): string {
  const when = Math.abs(seconds) <= 8.64e12 ? new Date(seconds * 1000).toISOString() : "(not a date)";
  const delta = Math.round(seconds - now);
  return `${when} (${delta >= 0 ? `in ${span(delta)}` : `${span(-delta)} ago`})`;
}

function span(seconds: number): string {
  const units: [number, string][] = [
    [86_400 * 365, "year"],
    [86_400, "day"],
    [3600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  for (const [size, name] of units) {
    const count = Math.floor(seconds / size);
    if (count >= 1) return `${count} ${name}${count === 1 ? "" : "s"}`;
  }
  return "0 seconds";
}
