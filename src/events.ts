import { channel } from "node:diagnostics_channel";
import type { Reason } from "./errors/errors.js";

/**
 * The `node:diagnostics_channel` channels bearer-gate publishes on. Subscribe with
 * `diagnostics_channel.subscribe(CHANNELS.verification, (event) => ...)`; nothing is built or sent
 * while nobody listens. Names and payloads are part of the API (docs/observability.md).
 */
export const CHANNELS = Object.freeze({
  /** Every verification's outcome: `VerificationEvent`. */
  verification: "bearer-gate:verification",
  /** Every refusal of a route guard (`requireScope`, `requireGroup`, `requireUser`): `GuardEvent`. */
  guard: "bearer-gate:guard",
  /** The key sets' life: downloads, failures, stale keys, recoveries, the refetch budget: `KeySetEvent`. */
  keySet: "bearer-gate:key-set",
} as const);

/** A verification's outcome: authentication only (a guard's refusal comes on `CHANNELS.guard`). */
export interface VerificationEvent {
  /** The verifier's `name` option, when given. */
  readonly verifier: string | undefined;
  readonly outcome: "accepted" | "refused";
  /** Why it was refused. */
  readonly reason: Reason | undefined;
  /** The token's `alg`, when it was decoded (a miss). */
  readonly algorithm: string | undefined;
  /** `"hit"`: answered from the verified-token cache; `"miss"`: verified; `"none"`: refused before. */
  readonly cache: "hit" | "miss" | "none";
  /** How long it took, in ms (the wait for keys and for `isRevoked` included). */
  readonly durationMs: number;
}

/** A route guard's refusal. */
export interface GuardEvent {
  /** `requireScope`, `requireAnyScope`, `requireGroup` or `requireUser`. */
  readonly guard: string;
  readonly reason: Reason;
  /** The scopes or groups the guard asks for (none for `requireUser`). */
  readonly required: readonly string[];
}

/** Something that happened to a key set. */
export type KeySetEvent =
  | { readonly type: "download-started"; readonly uri: string }
  | {
      readonly type: "download-succeeded";
      readonly uri: string;
      /** Kids new in this download, and kids gone since the last (`null`: a key with no kid). */
      readonly added: readonly (string | null)[];
      readonly removed: readonly (string | null)[];
    }
  | { readonly type: "download-failed"; readonly uri: string; readonly cause: string }
  /** A download failed while older keys were held: they serve, stale, for `staleIfErrorMs` at most. */
  | { readonly type: "serving-stale"; readonly uri: string; readonly cause: string }
  /** The first good download after `serving-stale`. */
  | { readonly type: "recovered"; readonly uri: string }
  /** A token's unknown kid found the refetch budget spent: no download was tried. */
  | { readonly type: "refetch-budget-spent"; readonly uri: string }
  /** The issuer's discovery document named another `jwks_uri` than before. */
  | { readonly type: "discovery-changed"; readonly uri: string; readonly jwksUri: string };

export const verificationChannel = channel(CHANNELS.verification);
export const guardChannel = channel(CHANNELS.guard);
export const keySetChannel = channel(CHANNELS.keySet);

/** Publishes a key-set event, built only when someone listens. */
export function publishKeySet(make: () => KeySetEvent): void {
  if (keySetChannel.hasSubscribers) keySetChannel.publish(make());
}
