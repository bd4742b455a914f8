import { createHash } from "node:crypto";

// RFC 7638 §3.2: the required members of each key type, in lexicographic order
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ["crv", "kty", "x", "y"],
  OKP: ["crv", "kty", "x"],
  RSA: ["e", "kty", "n"],
};

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: what a DPoP-bound token names in
 * `cnf.jkt` (RFC 9449 §6.1). `undefined` for a key type with no thumbprint rule here, or a required
 * member that is not a string.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const members = typeof jwk["kty"] === "string" ? REQUIRED_MEMBERS[jwk["kty"]] : undefined;
  if (members === undefined) return undefined;
  const canonical: Record<string, string> = {};
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== "string") return undefined;
    canonical[name] = value;
  }
  // JSON.stringify of string members in insertion order, no white space: RFC 7638 §3's form
  return sha256(JSON.stringify(canonical));
}

/** base64url(SHA-256(text)): a DPoP proof's `ath` of an access token (RFC 9449 §4.2). */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("base64url");
}
