import { ConfigError } from "../errors/errors.js";
import { isLoopback } from "../keys/jwks.js";
import { plainObject, rejectUnknown } from "../options/check.js";

/**
 * The optional fields of an RFC 9728 §2 protected resource metadata document, camelCase: each is
 * published under its snake_case name. `resource`, `authorization_servers` and
 * `bearer_methods_supported` are the gate's own.
 */
export interface ResourceMetadataOptions {
  /** The scopes a client may ask for this resource; also named in 401 challenges (`scope="..."`). */
  scopesSupported?: readonly string[] | undefined;
  /** The authorization servers' issuer URLs; default the gate's own issuers (`issuerUrl`, Cognito's, `issuer`). */
  authorizationServers?: readonly string[] | undefined;
  /** A human-readable name of the resource. */
  resourceName?: string | undefined;
  /** A page with what a developer needs to use the resource. */
  resourceDocumentation?: string | undefined;
  /** The resource's policy page. */
  resourcePolicyUri?: string | undefined;
  /** The resource's terms of service page. */
  resourceTosUri?: string | undefined;
  /** JWS algorithms the resource signs its responses with. */
  resourceSigningAlgValuesSupported?: readonly string[] | undefined;
  /** The resource's own JWKS URL (for signed responses or encrypted requests), not the issuer's. */
  jwksUri?: string | undefined;
  /** RFC 8705: whether the resource takes certificate-bound access tokens. */
  tlsClientCertificateBoundAccessTokens?: boolean | undefined;
  /** RFC 9396 authorization details types the resource understands. */
  authorizationDetailsTypesSupported?: readonly string[] | undefined;
  /** RFC 9449: DPoP proof algorithms the resource takes. */
  dpopSigningAlgValuesSupported?: readonly string[] | undefined;
  /** RFC 9449: whether the resource requires DPoP-bound tokens. */
  dpopBoundAccessTokensRequired?: boolean | undefined;
}

/** The protected resource, once checked: what the document says and where it is served. */
export interface ProtectedResource {
  /** The resource identifier, exactly as configured. */
  readonly resource: string;
  /** The document's absolute URL (RFC 9728 §3.1), named in every 401's `resource_metadata`. */
  readonly metadataUrl: string;
  /** The path the document is served at: `/.well-known/oauth-protected-resource` plus the resource's path. */
  readonly metadataPath: string;
  /** The document, serialised once. */
  readonly document: string;
  /** What 401 challenges name in `scope`, or `undefined`. */
  readonly challengeScope: string | undefined;
}

const STRINGS = ["resourceName", "resourceDocumentation", "resourcePolicyUri", "resourceTosUri", "jwksUri"] as const;
const LISTS = [
  "scopesSupported",
  "authorizationServers",
  "resourceSigningAlgValuesSupported",
  "authorizationDetailsTypesSupported",
  "dpopSigningAlgValuesSupported",
] as const;
const FLAGS = ["tlsClientCertificateBoundAccessTokens", "dpopBoundAccessTokensRequired"] as const;
const URL_FIELDS = new Set<string>([
  "resourceDocumentation",
  "resourcePolicyUri",
  "resourceTosUri",
  "jwksUri",
  "authorizationServers",
]);

/** What the gate does with sender-constrained tokens: its `dpop` and `certificateBound` options. */
export interface BindingMetadata {
  readonly dpopSigningAlgValuesSupported?: readonly string[] | undefined;
  readonly dpopBoundAccessTokensRequired?: boolean | undefined;
  readonly tlsClientCertificateBoundAccessTokens?: boolean | undefined;
}

// The document's DPoP and mTLS fields follow the gate's options; given by hand as well, they must
// say the same, or a client would be told one thing and refused for another
function withBinding(options: ResourceMetadataOptions, binding: BindingMetadata): ResourceMetadataOptions {
  const merged: Record<string, unknown> = { ...options };
  for (const [name, value] of Object.entries(binding)) {
    if (value === undefined) continue;
    const stated = merged[name];
    if (stated !== undefined && JSON.stringify(stated) !== JSON.stringify(value)) {
      throw new ConfigError(
        `\`resourceMetadata.${name}\` says ${JSON.stringify(stated)}, but the gate's options say ${JSON.stringify(value)}: leave it out, and the document says what the gate does.`,
      );
    }
    merged[name] = value;
  }
  return merged;
}

/**
 * Checks `resource` (an absolute https URL with no fragment; http only on this machine or with
 * `allowInsecureHttp`, as for key URLs) and builds its RFC 9728 document once, at start-up.
 */
export function protectedResource(
  input: {
    readonly resource?: unknown;
    readonly resourceMetadata?: unknown;
    readonly challengeScope?: unknown;
    readonly allowInsecureHttp: boolean;
  },
  issuers: readonly string[],
  binding: BindingMetadata = {},
): ProtectedResource {
  const resource = checkResource(input.resource, input.allowInsecureHttp);
  const given = (input.resourceMetadata ?? {}) as ResourceMetadataOptions;
  plainObject(given, "resourceMetadata");
  rejectUnknown(given, [...STRINGS, ...LISTS, ...FLAGS], "`resourceMetadata`");
  const options = withBinding(given, binding);
  const document: Record<string, unknown> = { resource };
  document["authorization_servers"] = authorizationServers(options.authorizationServers, issuers);
  document["bearer_methods_supported"] = ["header"];
  for (const name of [...STRINGS, ...LISTS, ...FLAGS]) {
    const value = name === "authorizationServers" ? undefined : options[name];
    if (value === undefined) continue;
    document[snake(name)] = checkField(name, value);
  }
  const url = new URL(resource);
  // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  const metadataPath = `/.well-known/oauth-protected-resource${path}`;
  return Object.freeze({
    resource,
    metadataUrl: `${url.origin}${metadataPath}`,
    metadataPath,
    document: JSON.stringify(document),
    challengeScope: challengeScope(input.challengeScope, options.scopesSupported),
  });
}

function checkResource(value: unknown, allowInsecureHttp: boolean): string {
  const url = typeof value === "string" && URL.canParse(value) ? new URL(value) : undefined;
  // RFC 8707 §2 and RFC 9728 §1.2: an absolute URI with no fragment
  if (url === undefined || (value as string).includes("#")) {
    throw new ConfigError(`\`resource\` must be an absolute URL with no fragment, got ${JSON.stringify(value)}.`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && (allowInsecureHttp || isLoopback(url)))) {
    throw new ConfigError(
      `\`resource\` must be an https URL (http only on this machine, or with \`allowInsecureHttp\`), got ${JSON.stringify(value)}.`,
    );
  }
  return value as string;
}

function authorizationServers(given: unknown, issuers: readonly string[]): string[] {
  if (given !== undefined) return checkField("authorizationServers", given) as string[];
  // issuer identifiers are URLs (RFC 8414 §2); an `issuer` like "Rooms-API-Internal-Access" is none
  const urls = issuers.filter((issuer) => URL.canParse(issuer) && /^https?:$/.test(new URL(issuer).protocol));
  if (urls.length === 0) {
    throw new ConfigError(
      "`resource` publishes the authorization servers that issue its tokens, and this gate names none: give " +
        "`issuerUrl`, `cognito` or an `issuer` URL, or `resourceMetadata.authorizationServers`.",
    );
  }
  return [...new Set(urls)];
}

function checkField(name: string, value: unknown): unknown {
  const list = (LISTS as readonly string[]).includes(name);
  const flag = (FLAGS as readonly string[]).includes(name);
  const ok = list
    ? Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string" && item !== "")
    : flag
      ? typeof value === "boolean"
      : typeof value === "string" && value !== "";
  if (!ok) {
    const what = list ? "a non-empty list of strings" : flag ? "a boolean" : "a non-empty string";
    throw new ConfigError(`\`resourceMetadata.${name}\` must be ${what}.`);
  }
  if (URL_FIELDS.has(name)) {
    for (const item of (list ? value : [value]) as string[]) {
      if (!URL.canParse(item))
        throw new ConfigError(`\`resourceMetadata.${name}\`: ${JSON.stringify(item)} is not a URL.`);
    }
  }
  return list ? [...(value as string[])] : value;
}

// the scopes a client should ask for, for 401 challenges (MCP 2025-11-25: scope hints)
function challengeScope(given: unknown, supported: readonly string[] | undefined): string | undefined {
  const scopes = given ?? supported;
  if (scopes === undefined) return undefined;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    !scopes.every((s) => typeof s === "string" && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))
  ) {
    throw new ConfigError("`challengeScope` must be a non-empty list of scopes (no spaces, quotes or backslashes).");
  }
  return scopes.join(" ");
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** What the metadata document's URL answers, whatever the framework. */
export interface MetadataAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The document, for GET and HEAD (the frameworks send HEAD's headers alone); `undefined` otherwise. */
  readonly body: string | undefined;
}

// public and the same for every caller: browsers' MCP clients read it cross-origin
const CORS = { "Access-Control-Allow-Origin": "*" } as const;
const METHODS = "GET, HEAD, OPTIONS";

/**
 * The answer to a request for the metadata document: `GET` and `HEAD` the document (JSON, cached
 * for an hour, readable from any origin), `OPTIONS` a CORS preflight, anything else 405.
 * `requestedHeaders` is the preflight's `Access-Control-Request-Headers`.
 */
export function metadataAnswer(
  resource: ProtectedResource,
  method: string,
  requestedHeaders: string | undefined,
): MetadataAnswer {
  if (method === "GET" || method === "HEAD") {
    const headers = { ...CORS, "Content-Type": "application/json", "Cache-Control": "public, max-age=3600" };
    return { status: 200, headers, body: resource.document };
  }
  if (method === "OPTIONS") {
    const headers: Record<string, string> = {
      ...CORS,
      "Access-Control-Allow-Methods": METHODS,
      "Access-Control-Max-Age": "86400",
    };
    // the headers a browser client asks to send (MCP-Protocol-Version): any, on a public document
    const asked = requestedHeaders?.replace(/[^A-Za-z0-9, -]/g, "");
    if (asked !== undefined && asked !== "") headers["Access-Control-Allow-Headers"] = asked;
    return { status: 204, headers, body: undefined };
  }
  return { status: 405, headers: { ...CORS, Allow: METHODS }, body: undefined };
}

/** What a protected resource's 401 challenges add: its metadata URL and the scopes to ask for. */
export function challengeOptions(
  resource: ProtectedResource | undefined,
): { readonly resourceMetadata: string; readonly scope: string | undefined } | undefined {
  return resource === undefined
    ? undefined
    : { resourceMetadata: resource.metadataUrl, scope: resource.challengeScope };
}
