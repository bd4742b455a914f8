import { ConfigError } from "../errors/errors.js";
import { displayUrl } from "../errors/text.js";
import { isLoopback } from "../keys/jwks.js";

/** A key URL (`jwksUri`), checked: http(s), and https unless on this machine or `allowInsecureHttp`. */
export function checkUrl(uri: unknown, name: string, allowInsecureHttp: boolean): string {
  const url = typeof uri === "string" && URL.canParse(uri) ? new URL(uri) : undefined;
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    const shown = typeof uri === "string" ? JSON.stringify(displayUrl(uri)) : JSON.stringify(uri);
    throw new ConfigError(`\`${name}\` must be an http(s) URL, got ${shown}.`);
  }
  checkSecure(url, name, allowInsecureHttp);
  return url.href;
}

// Keys over plain http can be replaced by anyone on the path: https, but on this machine
function checkSecure(url: URL, name: string, allowInsecureHttp: boolean): void {
  if (url.protocol === "https:" || allowInsecureHttp || isLoopback(url)) return;
  throw new ConfigError(
    `\`${name}\` is plain http (${displayUrl(url)}): keys are downloaded over https only, as anyone on the network ` +
      "path could serve their own key. Use https, or set `allowInsecureHttp` to true for a private network you trust.",
  );
}

/** An issuer found by discovery (`issuerUrl`), checked: http(s) with no query or fragment, and secure as a key URL. */
export function checkIssuerUrl(issuer: unknown, name: string, allowInsecureHttp: boolean): string {
  const url = typeof issuer === "string" && URL.canParse(issuer) ? new URL(issuer) : undefined;
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash) {
    throw new ConfigError(
      `\`${name}\` must be an http(s) URL with no query or fragment, got ${JSON.stringify(displayUrl(String(issuer)))}.`,
    );
  }
  checkSecure(url, name, allowInsecureHttp);
  return issuer as string;
}
