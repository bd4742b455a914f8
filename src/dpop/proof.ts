import { createPublicKey, type KeyObject } from "node:crypto";
import { quote, TokenError } from "../errors/errors.js";
import { isStrong } from "../keys/public.js";
import { decodeJwt } from "../token/decode.js";
import { keyFits, verifySignature, type SignatureVerifier } from "../token/signature.js";
import { jwkThumbprint, sha256 } from "./thumbprint.js";

/** What of an HTTP request a DPoP proof is checked against. */
export interface ProofRequest {
  /** The request's method, as received (`GET`). */
  readonly method: string;
  /** The request's target as received (`/orders/7?x=1`): its path; query and fragment are ignored. */
  readonly path: string;
  /** Every `DPoP` header the request carried: none, one, or a list (more than one is refused). */
  readonly proofs: string | readonly string[] | undefined;
}

/** The checked `dpop` option, as the proof check reads it. */
export interface ProofRules {
  /** `origin` normalised: scheme, host and port, no trailing slash. */
  readonly origin: string;
  readonly verifiers: ReadonlyMap<string, SignatureVerifier>;
  readonly maxAgeSeconds: number;
  readonly clockTolerance: number;
  readonly maxProofLength: number;
  /** The nonces a proof may carry now (RFC 9449 §9), or `undefined` when no nonce is asked for. */
  readonly nonces: (() => readonly string[]) | undefined;
}

/** A proof that passed every check but the replay check: what the replay store records. */
export interface CheckedProof {
  /** The RFC 7638 thumbprint of the proof's key: what the token's `cnf.jkt` must name. */
  readonly thumbprint: string;
  readonly jti: string;
}

// Members only a private JWK has (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2), and a symmetric key's
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MAX_JTI_CHARS = 256;
// A client sends the same header (typ, alg, jwk) with every proof: its key, imported once
const KEYS = new Map<string, { readonly key: KeyObject; readonly thumbprint: string }>();
const MAX_KEYS = 1024;

/**
 * Checks a DPoP proof (RFC 9449 §4.3) for a request and its access token, all but the replay of
 * its `jti`: exactly one proof, a `dpop+jwt` signed with an allowed asymmetric algorithm by the
 * public `jwk` it carries, `htm` and `htu` naming this request (the configured origin, never the
 * Host header), `iat` recent, `ath` the hash of this access token, and the nonce when one is asked.
 * @throws TokenError `invalid_dpop_proof`, or `use_dpop_nonce`
 */
export function checkProof(token: string, request: ProofRequest, rules: ProofRules, now: number): CheckedProof {
  const proof = oneProof(request.proofs, rules.maxProofLength);
  let decoded;
  try {
    decoded = decodeJwt(proof);
  } catch (error) {
    throw invalid("the proof is not a compact JWS with JSON header and claims", error);
  }
  const { header, payload, signingInput, signatureBytes } = decoded;
  // RFC 7515 §4.1.9: the media type's application/ prefix may be left out, and case does not count
  const typ = typeof header["typ"] === "string" ? header["typ"].toLowerCase().replace(/^application\//, "") : "";
  if (typ !== "dpop+jwt") throw invalid(`typ ${quote(header["typ"])} is not dpop+jwt`);
  const verify = rules.verifiers.get(header.alg);
  if (verify === undefined) throw invalid(`alg ${quote(header.alg)} is not allowed for proofs`);
  const { key, thumbprint } = proofKey(header["jwk"], header.alg, signingInput.slice(0, signingInput.indexOf(".")));
  try {
    verifySignature(verify, signingInput, signatureBytes, key);
  } catch (error) {
    throw invalid("the proof's signature does not verify with its jwk", error);
  }
  if (payload["htm"] !== request.method) throw invalid(`htm ${quote(payload["htm"])} is not ${request.method}`);
  const expected = targetUri(rules.origin, request.path);
  const htu = payload["htu"];
  // a client that sends the URI already normalised (most do) costs no parse
  if (typeof htu !== "string" || (htu !== expected && withoutQuery(htu) !== expected)) {
    throw invalid(`htu ${quote(htu)} is not ${expected}`);
  }
  const iat = payload.iat;
  if (iat === undefined) throw invalid("the proof has no iat");
  if (iat > now + rules.clockTolerance) throw invalid(`iat ${iat} is ahead`);
  if (iat < now - rules.maxAgeSeconds - rules.clockTolerance) throw invalid(`iat ${iat} is too old`);
  const jti = payload.jti;
  if (jti === undefined || jti === "" || jti.length > MAX_JTI_CHARS) throw invalid("the proof has no usable jti");
  if (payload["ath"] !== sha256(token)) throw invalid("ath is not the hash of this access token");
  if (rules.nonces !== undefined) {
    const nonce = payload["nonce"];
    if (typeof nonce !== "string" || !rules.nonces().includes(nonce)) {
      throw new TokenError("use_dpop_nonce", undefined, {
        cause: new Error(nonce === undefined ? "the proof has no nonce" : "the proof's nonce is not current"),
      });
    }
  }
  return { thumbprint, jti };
}

function oneProof(proofs: ProofRequest["proofs"], maxLength: number): string {
  // RFC 9449 §4.3: not more than one DPoP header
  const proof = typeof proofs === "string" ? proofs : proofs?.length === 1 ? proofs[0] : undefined;
  if (proof === undefined || proof === "") {
    throw invalid(proofs === undefined || proofs.length === 0 ? "no DPoP header" : "more than one DPoP header");
  }
  if (proof.length > maxLength) throw invalid(`the proof is longer than ${maxLength} characters`);
  return proof;
}

function proofKey(jwk: unknown, alg: string, headerSegment: string): { key: KeyObject; thumbprint: string } {
  const known = KEYS.get(headerSegment);
  if (known !== undefined && keyFits(alg, known.key)) return known;
  if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk)) throw invalid("the header has no jwk object");
  const members = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(members, name))) throw invalid("the jwk holds a private key");
  const thumbprint = jwkThumbprint(members);
  if (thumbprint === undefined) throw invalid(`the jwk's kty ${quote(members["kty"])} is not EC, OKP or RSA`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: members, format: "jwk" });
  } catch (error) {
    throw invalid("the jwk is not a usable public key", error);
  }
  if (!keyFits(alg, key) || !isStrong(key)) throw invalid(`the jwk cannot verify ${quote(alg)}, or is too weak`);
  if (KEYS.size >= MAX_KEYS) KEYS.clear();
  const entry = { key, thumbprint };
  KEYS.set(headerSegment, entry);
  return entry;
}

/**
 * The URI a proof's `htu` must name for a request (RFC 9449 §4.3, RFC 3986 §6 normalisation): the
 * configured origin and the request's path, with no query or fragment.
 */
export function targetUri(origin: string, path: string): string {
  const key = `${origin} ${path}`;
  let uri = TARGETS.get(key);
  if (uri === undefined) {
    uri = withoutQuery(origin + (path.startsWith("/") ? path : `/${path}`));
    if (TARGETS.size >= MAX_TARGETS) TARGETS.clear();
    TARGETS.set(key, uri);
  }
  return uri;
}

// An API's routes are few, and each request's target normalised once: bounded, starting over when
// full (a scan of random paths costs only time)
const TARGETS = new Map<string, string>();
const MAX_TARGETS = 1024;

// RFC 3986 §6.2.2 and §6.2.3 through WHATWG URL: scheme and host in lower case, default port
// dropped, dot segments removed, percent-encoding normalised; the query and fragment left out
function withoutQuery(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "";
  }
  return `${url.origin}${url.pathname}`;
}

function invalid(detail: string, cause?: unknown): TokenError {
  return new TokenError("invalid_dpop_proof", undefined, {
    cause: cause === undefined ? new Error(detail) : new Error(detail, { cause }),
  });
}
