import { TokenError, type Reason } from "../errors/errors.js";
import type { DpopPolicy } from "../dpop/options.js";
import { checkProof } from "../dpop/proof.js";
import { certificateThumbprint, type ClientCertificate } from "../mtls/certificate.js";
import type { Claims } from "../types.js";

/**
 * What of the HTTP request a sender-constrained token is checked against: the adapters fill it in;
 * `verifier.verify(header, request)` takes it from you.
 */
export interface BindingRequest {
  /** The request's method (`GET`). */
  readonly method: string;
  /** The request's target as received (`/orders/7?page=2`); query and fragment are ignored. */
  readonly path: string;
  /** The request's `DPoP` header values: one, or the list when it came more than once. */
  readonly dpop?: string | readonly string[] | undefined;
  /** The client's TLS certificate (PEM, DER or `X509Certificate`), for certificate-bound tokens. */
  readonly clientCertificate?: ClientCertificate;
}

/** How a token was bound to its client, when it was (`auth.binding`). */
export type Binding =
  /** DPoP (RFC 9449): `thumbprint` is the proof key's RFC 7638 thumbprint, the token's `cnf.jkt`. */
  | { readonly method: "dpop"; readonly thumbprint: string }
  /** Mutual TLS (RFC 8705): `thumbprint` is the certificate's SHA-256, the token's `cnf["x5t#S256"]`. */
  | { readonly method: "mtls"; readonly thumbprint: string };

/** How the token came: `Authorization: Bearer` or `Authorization: DPoP`. */
export type Scheme = "bearer" | "dpop";

/** The binding rules of a policy. */
export interface BindingRules {
  readonly dpop: DpopPolicy | undefined;
  readonly certificateBound: boolean;
}

/** A binding checked, and the replay-store key of its proof (DPoP), recorded last. */
export interface CheckedBinding {
  readonly binding: Binding | undefined;
  readonly replayKey: string | undefined;
}

const UNBOUND: CheckedBinding = Object.freeze({ binding: undefined, replayKey: undefined });

/**
 * Checks that a verified token came as its binding says (its `cnf` claim, RFC 7800): a DPoP-bound
 * token only with the DPoP scheme and a proof by its key; a certificate-bound one only over a TLS
 * connection with its certificate. All but the proof's replay, which the caller records last.
 * @throws TokenError `invalid_dpop_proof`, `use_dpop_nonce`, `dpop_bound_token`, `wrong_certificate`
 */
export function checkBinding(
  token: string,
  claims: Claims,
  scheme: Scheme,
  request: BindingRequest | undefined,
  rules: BindingRules,
  now: number,
): CheckedBinding {
  const cnf = claims["cnf"];
  const jkt = cnfMember(cnf, "jkt");
  const x5t = cnfMember(cnf, "x5t#S256");
  let checked = UNBOUND;
  if (scheme === "dpop") {
    const dpop = rules.dpop as DpopPolicy; // the DPoP scheme is read only with the `dpop` option
    const proof = checkProof(token, proofRequest(request), dpop.rules, now);
    // RFC 9449 §7.1: the proof's key must be the one the token is bound to
    if (jkt === undefined) refuse("invalid_dpop_proof", "the access token is not DPoP-bound (it has no cnf.jkt)");
    if (jkt !== proof.thumbprint) refuse("invalid_dpop_proof", "the proof's key is not the one cnf.jkt names");
    // the key's thumbprint and the proof's jti (at most 256 characters): one proof of one key
    checked = { binding: { method: "dpop", thumbprint: jkt }, replayKey: `${jkt}.${proof.jti}` };
  } else if (jkt !== undefined) {
    refuse("dpop_bound_token", "a DPoP-bound token (cnf.jkt) came with the Bearer scheme");
  }
  if (x5t !== undefined || rules.certificateBound) {
    if (!rules.certificateBound) {
      refuse("wrong_certificate", "a certificate-bound token (cnf x5t#S256), and certificateBound is not set");
    }
    if (x5t === undefined) refuse("wrong_certificate", 'the token is not certificate-bound (no cnf["x5t#S256"])');
    const presented = certificateThumbprint(request?.clientCertificate);
    if (presented === undefined) refuse("wrong_certificate", "the request came with no client certificate");
    if (presented !== x5t) refuse("wrong_certificate", "the client certificate is not the one the token is bound to");
    if (checked.binding === undefined) checked = { binding: { method: "mtls", thumbprint: x5t }, replayKey: undefined };
  }
  return checked;
}

/** A string member of `cnf`; a `cnf` or member of another type is a malformed token. */
function cnfMember(cnf: unknown, name: string): string | undefined {
  if (cnf === undefined) return undefined;
  if (cnf === null || typeof cnf !== "object" || Array.isArray(cnf)) refuse("malformed_token", "cnf is not an object");
  const value = (cnf as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") refuse("malformed_token", `cnf.${name} is not a string`);
  return value;
}

function proofRequest(request: BindingRequest | undefined): {
  method: string;
  path: string;
  proofs: BindingRequest["dpop"];
} {
  if (request === undefined) {
    throw new TokenError("internal_error", undefined, {
      cause: new Error("a DPoP token needs the request to check its proof: verify(header, { method, path, dpop })"),
    });
  }
  return { method: request.method, path: request.path, proofs: request.dpop };
}

function refuse(reason: Reason, detail: string): never {
  throw new TokenError(reason, undefined, { cause: new Error(detail) });
}
