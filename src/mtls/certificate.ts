import { X509Certificate } from "node:crypto";
import { sha256 } from "../dpop/thumbprint.js";

/**
 * A client certificate as `clientCertificate` may hand it over: PEM text (URL-encoded too, as
 * nginx's `$ssl_client_escaped_cert` sends it), DER bytes, or an `X509Certificate`; `undefined`
 * when the request came with none.
 */
export type ClientCertificate = string | Uint8Array | X509Certificate | undefined;

/**
 * The RFC 8705 §3.1 thumbprint of a certificate: base64url(SHA-256(DER)), what a certificate-bound
 * token names in `cnf["x5t#S256"]`. `undefined` for no certificate, or one that does not parse.
 */
export function certificateThumbprint(certificate: unknown): string | undefined {
  if (certificate instanceof X509Certificate) return sha256(certificate.raw);
  if (certificate instanceof Uint8Array) return certificate.length === 0 ? undefined : sha256(certificate);
  if (typeof certificate !== "string" || certificate === "") return undefined;
  try {
    const text = certificate.startsWith("-----BEGIN%20") ? decodeURIComponent(certificate) : certificate;
    return sha256(new X509Certificate(text).raw);
  } catch {
    return undefined;
  }
}

/**
 * The certificate the client presented on this TLS connection (Node's `tls.TLSSocket`), as DER;
 * `undefined` on a plain connection or when it presented none. The TLS handshake proved the client
 * holds its private key; whether the certificate chains to a CA is the server's `rejectUnauthorized`.
 */
export function peerCertificate(socket: unknown): Uint8Array | undefined {
  if (socket === null || typeof socket !== "object" || !("getPeerCertificate" in socket)) return undefined;
  const read = socket.getPeerCertificate;
  if (typeof read !== "function") return undefined;
  const certificate: unknown = read.call(socket, false);
  const raw =
    certificate !== null && typeof certificate === "object" ? (certificate as { raw?: unknown }).raw : undefined;
  return raw instanceof Uint8Array && raw.length > 0 ? raw : undefined;
}
