import crypto from "node:crypto";
import { ConfigError, createVerifier, type VerifierOptions } from "bearer-gate";
import { entrySize, TokenCache } from "../../src/cache.js";
import { rejectionOf, thrownBy } from "../helpers.js";
import { HMAC_SECRET, NOW, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";

const bearer = (token: string): string => `Bearer ${token}`;

describe("the verified-token cache", () => {
  let now = NOW;
  const base: VerifierOptions = { secret: HMAC_SECRET, clock: () => now * 1000 };
  beforeEach(() => {
    now = NOW;
  });
  afterEach(() => jest.restoreAllMocks());

  it("checks a repeated token's signature once, and every time with tokenCache: false", async () => {
    const token = bearer(signHmac(roomsAccessClaims()));
    const signatureChecks = jest.spyOn(crypto, "createHmac"); // one HMAC per signature check
    const cached = createVerifier(base);
    await cached.verify(token);
    await cached.verify(token);
    expect(signatureChecks).toHaveBeenCalledTimes(1);
    const uncached = createVerifier({ ...base, tokenCache: false });
    await uncached.verify(token);
    await uncached.verify(token);
    expect(signatureChecks).toHaveBeenCalledTimes(3);
  });

  it("answers a hit exactly as a miss, with expiresIn counted from the clock", async () => {
    const token = bearer(signHmac(roomsAccessClaims()));
    const cached = createVerifier(base);
    const uncached = createVerifier({ ...base, tokenCache: false });
    const first = await cached.verify(token);
    now += 100;
    const [hit, miss] = await Promise.all([cached.verify(token), uncached.verify(token)]);
    expect(hit).toEqual(miss);
    expect(hit.expiresIn).toBe(first.expiresIn - 100);
    expect(hit.expiresAt).not.toBe(first.expiresAt); // a Date of its own each time
    expect(Object.isFrozen(hit.claims) && Object.isFrozen(hit.scopes)).toBe(true);
  });

  it("re-applies exp and nbf against the clock on every hit", async () => {
    const verifier = createVerifier({ ...base, clockTolerance: 5 });
    const token = bearer(signHmac(roomsAccessClaims({ exp: NOW + 60, nbf: NOW - 1 })));
    await verifier.verify(token);
    now = NOW - 7;
    expect(await rejectionOf(verifier.verify(token))).toMatchObject({ reason: "not_yet_valid" });
    now = NOW + 64;
    await expect(verifier.verify(token)).resolves.toHaveProperty("expiresIn", 0);
    now = NOW + 65;
    expect(await rejectionOf(verifier.verify(token))).toMatchObject({ reason: "expired" });
  });

  it("runs isRevoked and required-claim predicates on every hit", async () => {
    const revoked = new Set<unknown>();
    const isRevoked = jest.fn((claims: { jti?: string }) => revoked.has(claims.jti));
    let allowed = true;
    const verifier = createVerifier({ ...base, isRevoked, requiredClaims: { uid: () => allowed } });
    const token = bearer(signHmac(roomsAccessClaims({ jti: "j1" })));
    await verifier.verify(token);
    revoked.add("j1");
    expect(await rejectionOf(verifier.verify(token))).toMatchObject({ reason: "revoked" });
    revoked.clear();
    allowed = false;
    expect(await rejectionOf(verifier.verify(token))).toMatchObject({ reason: "claim_mismatch" });
    expect(isRevoked).toHaveBeenCalledTimes(2);
  });

  it("refuses bad tokenCache options at construction", () => {
    for (const tokenCache of [{ maxEntries: 0 }, { maxBytes: 1.5 }, { size: 3 }, 5]) {
      expect(thrownBy(() => createVerifier({ ...base, tokenCache } as VerifierOptions))).toBeInstanceOf(ConfigError);
    }
  });
});

describe("TokenCache", () => {
  const claims = (exp: number) => Object.freeze({ exp });
  const NONE = { scopes: [], groups: [] }; // no scopes, no groups
  const at = (stamp: number) => (): number => stamp; // the key source's stamp, as the verifier gives it
  const ALWAYS = (): number => 0; // admission draws below one in ten: let in
  const NEVER = (): number => 0.99; // at or above it: kept out

  it("keeps at most maxEntries; full, it lets a miss in one time in ten and drops the oldest for it", () => {
    const letIn = new TokenCache({ maxEntries: 3 }, ALWAYS);
    for (const token of ["a", "b", "c", "d", "e"]) letIn.set(token, claims(NOW + 60), NONE, 0, 0, NOW, 0);
    expect(letIn.size).toBe(3);
    expect(["a", "b", "c", "d", "e"].map((token) => letIn.get(token, at(0)) !== undefined)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    const keepOut = new TokenCache({ maxEntries: 3 }, NEVER);
    for (const token of ["a", "b", "c", "d", "e"]) keepOut.set(token, claims(NOW + 60), NONE, 0, 0, NOW, 0);
    expect(["a", "b", "c", "d", "e"].map((token) => keepOut.get(token, at(0)) !== undefined)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it("gives an entry answered since it was kept a second chance over the oldest one that was not", () => {
    const cache = new TokenCache({ maxEntries: 3 }, ALWAYS);
    for (const token of ["a", "b", "c"]) cache.set(token, claims(NOW + 60), NONE, 0, 0, NOW, 0);
    cache.get("a", at(0));
    cache.set("d", claims(NOW + 60), NONE, 0, 0, NOW, 0);
    expect(["a", "b", "c", "d"].map((token) => cache.get(token, at(0)) !== undefined)).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });

  it("keeps a cyclic working set larger than itself mostly cached, where dropping the oldest keeps none", () => {
    // 150 tokens in a cycle through a cache of 100: oldest-out would miss every time
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646; // a fixed sequence
    const cache = new TokenCache({ maxEntries: 100 }, random);
    let hits = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 150; i++) {
        const token = `token-${i}`;
        if (cache.get(token, at(0)) === undefined) cache.set(token, claims(NOW + 60), NONE, 0, 0, NOW, 0);
        else if (round >= 20) hits += 1;
      }
    }
    expect(hits / (20 * 150)).toBeGreaterThan(0.5); // at most 100/150 could hit
  });

  it("keeps its counted bytes within maxBytes, and skips a token larger than all of it", () => {
    const cache = new TokenCache({ maxBytes: 4096 }, ALWAYS);
    for (let i = 0; i < 100; i++) cache.set(`${i}`.padEnd(500, "x"), claims(NOW + 60), NONE, 0, 0, NOW, 200);
    expect(cache.bytes).toBeLessThanOrEqual(4096);
    expect(cache.size).toBeGreaterThan(0);
    cache.set("y".repeat(5000), claims(NOW + 60), NONE, 0, 0, NOW, 0);
    expect(cache.get("y".repeat(5000), at(0))).toBeUndefined();
  });

  it("counts an entry's bytes from its token, its claims as decodeJwt counts them, its scopes and groups", () => {
    const cache = new TokenCache({}, ALWAYS);
    cache.set("t".repeat(1000), claims(NOW + 60), { scopes: ["posts", "users"], groups: ["admins"] }, 0, 0, NOW, 3000);
    expect(cache.bytes).toBe(entrySize("t".repeat(1000), ["posts", "users"], 3000, ["admins"]));
    expect(entrySize("t".repeat(1000), ["posts", "users"], 3000)).toBeGreaterThan(4000 + 2 * "posts".length);
  });

  it("drops entries already past their exp as new ones come", () => {
    const cache = new TokenCache({});
    cache.set("old", claims(NOW + 1), NONE, 0, 0, NOW, 0);
    cache.set("new", claims(NOW + 60), NONE, 0, 0, NOW + 2, 0);
    expect([cache.get("old", at(0)), cache.size]).toEqual([undefined, 1]);
  });

  it("never answers under another key-set stamp, nor while the keys are past their age", () => {
    const cache = new TokenCache({});
    cache.set("t", claims(NOW + 60), NONE, 0, 1, NOW, 0);
    expect(cache.get("t", at(-1))).toBeUndefined();
    expect(cache.get("t", at(1))).toBeDefined();
    expect(cache.get("t", at(2))).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set("u", claims(NOW + 60), NONE, 0, -1, NOW, 0);
    expect(cache.size).toBe(0);
  });
});
