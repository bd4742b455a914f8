import { createHmac, randomBytes } from "node:crypto";

/**
 * Server-provided DPoP nonces (RFC 9449 §9) with no state: a nonce is the HMAC of the current time
 * window under a secret, so every instance that shares the secret hands out and accepts the same
 * ones. A proof may carry the current window's nonce or the last one's (a client that fetched it
 * just before the window turned).
 */
export interface Nonces {
  /** The nonce to hand out now, in `DPoP-Nonce`. */
  readonly current: () => string;
  /** The nonces a proof may carry now. */
  readonly accepted: () => readonly string[];
}

export function createNonces(secret: Uint8Array | undefined, lifetimeSeconds: number, clock: () => number): Nonces {
  const key = secret ?? randomBytes(32);
  let window = Number.NaN;
  let pair: readonly string[] = [];
  const make = (at: number): string =>
    createHmac("sha256", key).update(`bearer-gate dpop nonce ${at}`).digest("base64url");
  const refresh = (): readonly string[] => {
    const now = Math.floor(clock() / 1000 / lifetimeSeconds);
    if (now !== window) {
      window = now;
      pair = [make(now), make(now - 1)];
    }
    return pair;
  };
  return {
    current: () => refresh()[0] as string,
    accepted: refresh,
  };
}
