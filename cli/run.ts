import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  ConfigError,
  createVerifier,
  errorResponse,
  missingScopes,
  optionsFromEnv,
  parseScopes,
  TokenError,
  type Algorithm,
  type AuthContext,
  type TokenUse,
  type VerifierOptions,
} from "../src/index.js";
import { printable } from "../src/errors/text.js";
import { nearest } from "../src/options/check.js";

/** Where the CLI reads and writes, so tests can run it in-process. */
export interface Io {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readStdin(): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** The package's version, for `--version`. */
  readonly version: string;
}

const USAGE = {
  main: `Usage: bearer-gate <command> [options]

Commands:
  inspect <token|->   decode a token and explain it (nothing is verified)
  verify <token|->    verify a token as the middleware would, and show the answer

Pass - to read the token from standard input (it stays out of your shell history).
Run bearer-gate <command> --help for a command's options; bearer-gate --version for the version.`,
  inspect: `Usage: bearer-gate inspect <token|-> [--json]

Decodes the header and claims without any key: times as dates with how long ago or how long left,
the scopes as a list, and the kind of token it claims to be. Nothing is verified.

Every value from the token is shown with control characters and bidirectional overrides escaped.

Exit codes: 0 decoded, 1 not a decodable JWT, 2 usage error.`,
  verify: `Usage: bearer-gate verify <token|-> [--secret S | --public-key FILE |
                           --cognito-pool ID [--client-id C] [--token-use U] | --jwks-uri URL |
                           --issuer-url URL] [--issuer I] [--audience A] [--algorithm ALG]... [--scope S]...
                           [--claim NAME=VALUE]... [--allow-short-secret] [--allow-insecure-http]
                           [--dpop PROOF --url URL [--method M]] [--json]

Runs the real verifier and prints the verified token, or the exact response the middleware would
send (status, WWW-Authenticate, body) and the reason.

With no key flag, the key and the rest come from the environment, as requireToken() reads it:
JWT_SECRET, or JWT_PUBLIC_KEY, or JWT_ISSUER_URL, or COGNITO_USER_POOL_ID (COGNITO_CLIENT_ID,
COGNITO_REGION, COGNITO_TOKEN_USE), or JWKS_URI; JWT_ISSUER, JWT_AUDIENCE. So a secret stays off the command line:
  JWT_SECRET=... bearer-gate verify -

  --public-key FILE  a PEM public key, a JWK, or a JWKS ({"keys": [...]}) in a file: no key server
  --issuer-url URL   an OpenID Connect or OAuth issuer: its keys found by discovery, its iss the one allowed
  --token-use U      access (default), id or any: the Cognito token kind accepted
  --algorithm ALG    the allow-list (RS256, HS512, ...); may repeat
  --scope S          a scope the token must have; may repeat (every one is required)
  --claim NAME=VALUE a claim the token must carry with this value (compared as text); may repeat
  --allow-short-secret  accept a secret shorter than its algorithm needs (RFC 7518), with a warning
  --allow-insecure-http accept keys over plain http from a host other than this machine
  --dpop PROOF       a DPoP proof (RFC 9449) sent with the token as \`Authorization: DPoP <token>\`:
                     checked against --url (the request's full URL; its origin is the API's) and
                     --method (default GET), and the token must be bound to the proof's key
  --json             machine-readable output

Exit codes (who failed):
  0  the token is valid
  1  the token was refused (the middleware would answer 401 or 403)
  2  usage or configuration error (a bad flag, a missing key)
  3  the server side: the keys or the revocation store could not be had (the middleware would answer 503)`,
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
      const fromStdin = positionals[0] === "-";
      const raw = fromStdin ? await io.readStdin() : String(positionals[0]);
      const token = raw.trim().replace(/^bearer\s+/i, "");
      if (token === "") {
        io.stderr.write(
          `${paint("31", "error")}: ${fromStdin ? "no token on standard input" : "the token is empty"}\n`,
        );
        return 2;
      }
      return command === "inspect" ? inspect(token, values, io, paint) : await verify(token, values, io, paint);
    }
    if (command === "--version" || command === "-v") {
      io.stdout.write(`${io.version}\n`);
      return 0;
    }
    if (command === "--help" || command === "-h") return usage(io, "main", 0);
    if (command !== undefined) {
      const what = command.startsWith("-") ? "option" : "command";
      io.stderr.write(`${paint("31", "error")}: unknown ${what} ${printable(JSON.stringify(command))}\n\n`);
    }
    return usage(io, "main", 2);
  } catch (error) {
    // a bad option, or a bad command line (parseArgs throws errors coded ERR_PARSE_ARGS_*)
    const code = (error as { code?: unknown }).code;
    const usageError = error instanceof ConfigError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
    if (!usageError) throw error;
    const message = unknownOption(error, command) ?? (error as Error).message;
    io.stderr.write(`${paint("31", "error")}: ${printable(message)}\n`);
    // an unknown option: the usage, so the right spelling is at hand
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && (command === "inspect" || command === "verify")) {
      io.stderr.write(`\n${USAGE[command]}\n`);
    }
    return 2;
  }
}

const OPTIONS = {
  inspect: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  verify: {
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
    secret: { type: "string" },
    "public-key": { type: "string" },
    "allow-short-secret": { type: "boolean" },
    "allow-insecure-http": { type: "boolean" },
    "cognito-pool": { type: "string" },
    "client-id": { type: "string" },
    "token-use": { type: "string" },
    "jwks-uri": { type: "string" },
    "issuer-url": { type: "string" },
    issuer: { type: "string" },
    audience: { type: "string" },
    algorithm: { type: "string", multiple: true },
    scope: { type: "string", multiple: true },
    claim: { type: "string", multiple: true },
    dpop: { type: "string" },
    url: { type: "string" },
    method: { type: "string" },
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
  const { times, scopes } = explain(claims, io.now() / 1000);
  const kind = kindOf(claims);
  if (values.json === true) {
    io.stdout.write(
      `${printable(JSON.stringify({ verified: false, kind, header, claims, times, scopes }, null, 2), true)}\n`,
    );
    return 0;
  }
  const lines = [
    paint("33", "NOT VERIFIED: decoded only. Nothing here proves who signed this token or that it is valid."),
    // every line below holds text from the token: printable, so it cannot rewrite this banner
    "",
    ...layout(kind, header, claims, times, scopes, paint),
  ];
  io.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

// times as dates with how long ago or how long left, and the scopes as a list (null: not readable)
function explain(
  claims: Readonly<Record<string, unknown>>,
  now: number,
): { times: Record<string, string>; scopes: readonly string[] | null } {
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
  return { times, scopes };
}

// the friendly layout inspect and verify share
function layout(
  kind: string,
  header: Readonly<Record<string, unknown>> | undefined,
  claims: Readonly<Record<string, unknown>>,
  times: Readonly<Record<string, string>>,
  scopes: readonly string[] | null,
  paint: Paint,
): string[] {
  // JSON.stringify escapes C0 controls in strings, not DEL, C1 or bidirectional overrides
  const json = (value: unknown, indent?: number): string => printable(JSON.stringify(value, null, indent), true);
  return [
    `${paint("1", "Kind")}     ${kind}`,
    ...(header === undefined ? [] : [`${paint("1", "Header")}   ${json(header)}`]),
    `${paint("1", "Claims")}   ${json(claims, 2).replace(/\n/g, "\n         ")}`,
    ...Object.entries(times).map(([name, text]) => `${paint("1", name.padEnd(8))} ${text}`),
    `${paint("1", "Scopes")}   ${scopes === null ? "(the scope claim is neither a string nor a list)" : scopes.length > 0 ? list(scopes) : "(none)"}`,
  ];
}

async function verify(token: string, values: Values, io: Io, paint: Paint): Promise<number> {
  const options = verifierOptions(values, io, paint);
  const proof = proofRequest(values);
  const required = strings(values["scope"]);
  const verifier = createVerifier({
    ...options,
    ...(proof === undefined ? {} : { dpop: { origin: proof.origin } }),
    tokenCache: false,
    clock: () => io.now(),
  });
  let auth: AuthContext;
  try {
    auth = proof === undefined ? await verifier.verifyToken(token) : await verifier.verify(`DPoP ${token}`, proof);
    const missing = required.length > 0 ? missingScopes(auth.scopes, required) : [];
    if (missing.length > 0) throw new TokenError("insufficient_scope", missing);
  } catch (error) {
    return refused(error, token, values, io, paint);
  }
  if (values.json === true) {
    const result = {
      valid: true,
      claims: auth.claims,
      scopes: auth.scopes,
      groups: auth.groups,
      userPoolId: auth.userPoolId,
      expiresAt: auth.expiresAt.toISOString(),
      expiresIn: auth.expiresIn,
      binding: auth.binding ?? null,
    };
    io.stdout.write(`${printable(JSON.stringify(result, null, 2), true)}\n`);
    return 0;
  }
  const { times } = explain(auth.claims, io.now() / 1000);
  const lines = [
    `${paint("32", "VALID")}: the middleware would let this request through.`,
    "",
    ...layout(kindOf(auth.claims), decodeUnverified(token)?.header, auth.claims, times, auth.scopes, paint),
    ...(auth.groups.length > 0 ? [`${paint("1", "Groups")}   ${list(auth.groups)}`] : []),
    ...(auth.userPoolId === undefined ? [] : [`${paint("1", "Pool")}     ${auth.userPoolId}`]),
    ...(auth.binding === undefined ? [] : [`${paint("1", "Bound")}    DPoP key ${auth.binding.thumbprint}`]),
  ];
  io.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

// --dpop PROOF --url URL [--method M]: the request the proof is checked against
function proofRequest(values: Values): { origin: string; method: string; path: string; dpop: string } | undefined {
  const { dpop, url, method } = values;
  if (typeof dpop !== "string") {
    if (url !== undefined || method !== undefined) throw new ConfigError("--url and --method go with --dpop.");
    return undefined;
  }
  if (typeof url !== "string" || !URL.canParse(url)) {
    throw new ConfigError("--dpop needs --url: the full URL the request was sent to (https://api.example.com/orders).");
  }
  const target = new URL(url);
  return {
    origin: target.origin,
    method: typeof method === "string" ? method : "GET",
    path: `${target.pathname}${target.search}`,
    dpop,
  };
}

// The options from the flags; with no key flag, from the environment (flags still add to them).
function verifierOptions(values: Values, io: Io, paint: Paint): VerifierOptions {
  const string = (name: string): string | undefined => (typeof values[name] === "string" ? values[name] : undefined);
  const keyFlags = ["secret", "public-key", "cognito-pool", "jwks-uri", "issuer-url"].filter(
    (name) => string(name) !== undefined,
  );
  const options: VerifierOptions = keyFlags.length === 0 ? { ...fromEnvironment(io) } : {};
  if (string("secret") !== undefined) options.secret = string("secret");
  if (values["allow-short-secret"] === true) options.allowShortSecret = true;
  if (values["allow-insecure-http"] === true) options.allowInsecureHttp = true;
  if (string("jwks-uri") !== undefined) options.jwksUri = string("jwks-uri");
  if (string("issuer-url") !== undefined) options.issuerUrl = string("issuer-url");
  const keyFile = string("public-key");
  if (keyFile !== undefined) options.publicKey = publicKeyFile(keyFile);
  const pool = string("cognito-pool");
  const tokenUse = string("token-use") as TokenUse | undefined; // checked with the other options
  if (pool !== undefined) options.cognito = { userPoolId: pool, clientId: string("client-id"), tokenUse };
  else if (string("client-id") !== undefined) throw new ConfigError("--client-id goes with --cognito-pool.");
  else if (tokenUse !== undefined) {
    const fromEnv = options.cognito;
    if (fromEnv === undefined || isList(fromEnv)) {
      throw new ConfigError("--token-use goes with --cognito-pool (or COGNITO_USER_POOL_ID).");
    }
    options.cognito = { ...fromEnv, tokenUse };
  }
  if (string("issuer") !== undefined) options.issuer = string("issuer");
  if (string("audience") !== undefined) options.audience = string("audience");
  const algorithms = strings(values["algorithm"]);
  if (algorithms.length > 0) options.algorithms = algorithms as Algorithm[]; // checked with the other options
  const claims = strings(values["claim"]);
  if (claims.length > 0) options.requiredClaims = Object.fromEntries(claims.map(claimMatcher));
  if (options.jwksUri !== undefined && options.cognito === undefined && options.issuer === undefined) {
    io.stderr.write(
      `${paint("33", "warning")}: --jwks-uri without --issuer accepts a token from anyone those keys signed; ` +
        "give --issuer (and --audience where the provider sets one).\n",
    );
  }
  return options;
}

function fromEnvironment(io: Io): VerifierOptions {
  // none of the key variables set: the flags are the way the user most likely meant
  const keyVariables = ["JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_ISSUER_URL", "COGNITO_USER_POOL_ID", "JWKS_URI"];
  if (keyVariables.every((name) => io.env[name] === undefined)) {
    throw new ConfigError(
      "no key given: pass --secret, --public-key, --issuer-url, --cognito-pool or --jwks-uri, or set JWT_SECRET, " +
        "JWT_PUBLIC_KEY, JWT_ISSUER_URL, COGNITO_USER_POOL_ID or JWKS_URI in the environment (with JWT_ISSUER, " +
        "JWT_AUDIENCE, COGNITO_CLIENT_ID as requireToken() reads them).",
    );
  }
  return optionsFromEnv(io.env);
}

// `unknown option --isuer-url (did you mean --issuer-url?)`, for parseArgs' longer message
function unknownOption(error: unknown, command: string | undefined): string | undefined {
  if ((error as { code?: unknown }).code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return undefined;
  if (command !== "inspect" && command !== "verify") return undefined;
  const given = /'(-[^']+)'/.exec((error as Error).message)?.[1];
  if (given === undefined) return undefined;
  const near = nearest(given.replace(/^-+/, "").split("=")[0] ?? "", Object.keys(OPTIONS[command]));
  return `unknown option ${given}${near === undefined ? "" : ` (did you mean --${near}?)`}`;
}

// --public-key FILE: a PEM, a JWK, or a JWKS (every key of it, matched by kid)
function publicKeyFile(path: string): NonNullable<VerifierOptions["publicKey"]> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(
      `--public-key ${JSON.stringify(path)} cannot be read (${String((error as { code?: unknown }).code)}).`,
    );
  }
  if (!text.trimStart().startsWith("{")) return text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`--public-key ${JSON.stringify(path)} is neither a PEM nor JSON.`);
  }
  const keys = (json as { keys?: unknown }).keys;
  return (Array.isArray(keys) ? keys : json) as NonNullable<VerifierOptions["publicKey"]>; // checked with the other options
}

// --claim name=value: the claim, read as text, must equal the value (so uid=2 matches the number 2)
function claimMatcher(pair: string): [string, (value: unknown) => boolean] {
  const at = pair.indexOf("=");
  if (at <= 0) throw new ConfigError(`--claim takes NAME=VALUE, got ${JSON.stringify(pair)}.`);
  const expected = pair.slice(at + 1);
  const asText = (value: unknown): string | undefined =>
    typeof value === "string" ? value : value === undefined ? undefined : JSON.stringify(value);
  return [pair.slice(0, at), (value) => asText(value) === expected];
}

function isList<T>(value: T | readonly T[]): value is readonly T[] {
  return Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

// Exit codes: 1 the token was refused, 3 the server side failed (a 503: keys or store unavailable)
function refused(error: unknown, token: string, values: Values, io: Io, paint: Paint): number {
  const refusal = error instanceof TokenError ? error : new TokenError("internal_error", undefined, { cause: error });
  const response = errorResponse(refusal);
  const cause = detail(refusal, token, io.now() / 1000);
  const result = { valid: false, reason: refusal.reason, detail: cause, response };
  io.stdout.write(
    values.json === true
      ? `${printable(JSON.stringify(result, null, 2), true)}\n`
      : [
          `${paint("31", "REFUSED")}: ${refusal.reason}${cause === undefined ? "" : ` (${printable(cause)})`}`,
          "The middleware would answer:",
          `  HTTP ${response.status}`,
          ...Object.entries(response.headers).map(([name, value]) => `  ${name}: ${value}`),
          `  ${JSON.stringify(response.body)}`,
          "",
        ].join("\n"),
  );
  return response.status === 503 ? 3 : 1;
}

// The refusal's cause and the causes it chains (a 503's root cause: connection refused, HTTP 500),
// with, for an expired token, its date and how long ago
function detail(refusal: TokenError, token: string, now: number): string | undefined {
  const messages: string[] = [];
  // read by shape, not instanceof: an error from another realm (a VM context, a worker) is one too
  for (let cause = refusal.cause; isErrorLike(cause) && messages.length < 5; cause = cause.cause) {
    messages.push(cause.message === "" && typeof cause.code === "string" ? cause.code : cause.message);
  }
  const exp = decodeUnverified(token)?.claims["exp"];
  if (refusal.reason === "expired" && typeof exp === "number") messages.push(`expired ${describeTime(exp, now)}`);
  return messages.length === 0 ? undefined : messages.join(": ");
}

function isErrorLike(value: unknown): value is { message: string; cause?: unknown; code?: unknown } {
  return typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";
}

// a list of names from a token, each printable (a comma inside one shows as it is)
function list(names: readonly string[]): string {
  return names.map((name) => printable(name)).join(", ");
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
