import {
  ConfigError,
  createMemoryStore,
  createRevocationList,
  createVerifier,
  errorResponse,
  TokenError,
  type RevocationStore,
} from "bearer-gate";
import { HMAC_SECRET, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";

const memory = (): RevocationStore => createMemoryStore();
const now = (): number => Date.now() / 1000;

/** A store that records its calls and answers as told. */
function spyStore(lookup: RevocationStore["lookup"] = () => Promise.resolve({ listed: false, cutoff: undefined })) {
  const calls: string[] = [];
  const store: RevocationStore = {
    // times to live in whole seconds, so a test can state them
    revokeId: (id, ttlMs) => {
      calls.push(`revokeId ${id} ${Math.round(ttlMs / 1000)}s`);
      return Promise.resolve();
    },
    revokeSubject: (subject, _cutoff, ttlMs) => {
      calls.push(`revokeSubject ${subject} ${Math.round(ttlMs / 1000)}s`);
      return Promise.resolve();
    },
    lookup,
  };
  return { store, calls };
}

describe("createRevocationList's options are checked at construction", () => {
  it.each([
    ["no options", undefined, "must be one object"],
    ["no store", {}, "`store` must be a revocation store"],
    ["a store without lookup", { store: { revokeId() {}, revokeSubject() {} } }, "`store` must be a revocation store"],
    [
      "an unknown option",
      { store: createMemoryStore(), timeout: 5 },
      "unknown revocation list option(s): `timeout` (did you mean `timeoutMs`?)",
    ],
    ["a zero timeout", { store: createMemoryStore(), timeoutMs: 0 }, "`timeoutMs` must be an integer >= 1"],
    ["an unknown onStoreError", { store: createMemoryStore(), onStoreError: "maybe" }, '"deny" or "allow"'],
    ["allow with nobody told", { store: createMemoryStore(), onStoreError: "allow" }, "needs an `onError` hook"],
    [
      "a zero lifetime",
      { store: createMemoryStore(), maxTokenLifetime: 0 },
      "`maxTokenLifetime` must be a number >= 1",
    ],
    ["an empty subject claim", { store: createMemoryStore(), subjectClaim: "" }, "`subjectClaim` must be a non-empty"],
  ])("refuses %s", (_name, options, message) => {
    const create = (): unknown => createRevocationList(options as never);
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(message);
  });

  it("refuses bad memory store options", () => {
    expect(() => createMemoryStore({ maxEntries: 0 })).toThrow("`maxEntries` must be an integer >= 1");
    expect(() => createMemoryStore({ size: 1 } as never)).toThrow("unknown memory store option(s): `size`.");
    expect(() => createMemoryStore({ maxEntry: 1 } as never)).toThrow("`maxEntry` (did you mean `maxEntries`?)");
  });
});

describe("revoke", () => {
  it("lists the jti until exp + 300 s (the largest clockTolerance) and the family for the lifetime + 300 s", async () => {
    const { store, calls } = spyStore();
    const list = createRevocationList({ store });
    await list.revoke({ jti: "a", origin_jti: "fam", exp: now() + 60 });
    expect(calls).toEqual(["revokeId a 360s", "revokeId fam 86700s"]);
  });

  it("still lists a token past its exp that a verifier with a clock tolerance could accept", async () => {
    const { store, calls } = spyStore();
    const list = createRevocationList({ store });
    await list.revoke({ jti: "late", exp: now() - 60 }); // inside a 300 s tolerance
    await list.revoke({ jti: "old", exp: now() - 301 }); // past any tolerance: nothing to refuse
    expect(calls).toEqual(["revokeId late 240s"]);
  });

  it("keeps a subject's cutoff for the lifetime + 300 s, and writes nothing once every earlier token is past that", async () => {
    const { store, calls } = spyStore();
    const list = createRevocationList({ store, maxTokenLifetime: 60 });
    await list.revokeSubject("now");
    await list.revokeSubject("late", { before: new Date(Date.now() - 61_000) });
    await list.revokeSubject("gone", { before: new Date(Date.now() - 361_000) });
    expect(calls).toEqual(["revokeSubject now 360s", "revokeSubject late 299s"]);
  });

  it("refuses to write when its clock reads anything but a finite number", async () => {
    const { store, calls } = spyStore();
    const list = createRevocationList({ store, clock: () => Number.NaN });
    await expect(list.revoke({ jti: "a", exp: now() + 60 })).rejects.toThrow("the clock returned NaN");
    expect(calls).toEqual([]);
  });
});

describe("the memory store", () => {
  it("is bounded: when full of live entries it refuses a new one instead of dropping one", async () => {
    let clock = Date.now();
    const list = createRevocationList({
      store: createMemoryStore({ maxEntries: 2, clock: () => clock }),
      clock: () => clock,
    });
    await list.revoke({ jti: "one", exp: clock / 1000 + 10 });
    await list.revoke({ jti: "two", exp: clock / 1000 + 10 });
    const full = await list.revoke({ jti: "three", exp: clock / 1000 + 10 }).catch((error: unknown) => error);
    expect(full).toMatchObject({ reason: "revocation_unavailable", status: 503 });
    expect(String((full as Error).cause)).toContain("store is full (maxEntries 2)");
    expect(await list.isRevoked({ jti: "one", exp: clock / 1000 + 10 })).toBe(true);
    clock += 311_000; // the first two are past exp + 300 s and make room
    await list.revoke({ jti: "three", exp: clock / 1000 + 10 });
    expect(await list.isRevoked({ jti: "three", exp: clock / 1000 + 10 })).toBe(true);
    expect(await list.isRevoked({ jti: "one", exp: clock / 1000 + 10 })).toBe(false);
  });
});

describe("isRevoked when the store fails", () => {
  it("rejects with revocation_unavailable (980/503), and a throwing onError changes nothing", async () => {
    const { store } = spyStore(() => {
      throw new Error("ECONNREFUSED 127.0.0.1:6379");
    });
    const list = createRevocationList({
      store,
      onError: () => {
        throw new Error("the logger is broken");
      },
    });
    const error = (await list
      .isRevoked({ jti: "a", exp: now() + 60 })
      .catch((caught: unknown) => caught)) as TokenError;
    expect(error).toBeInstanceOf(TokenError);
    expect([error.reason, error.code, errorResponse(error).status]).toEqual(["revocation_unavailable", 980, 503]);
    expect(JSON.stringify(errorResponse(error).body)).not.toContain("ECONNREFUSED");
  });

  it("gives up on a store slower than timeoutMs", async () => {
    const { store } = spyStore(() => new Promise(() => {}));
    const reasons: string[] = [];
    const list = createRevocationList({
      store,
      timeoutMs: 20,
      onStoreError: "allow",
      onError: (e) => reasons.push(e.reason),
    });
    expect(await list.isRevoked({ jti: "a", exp: now() + 60 })).toBe(false);
    expect(reasons).toEqual(["revocation_unavailable"]);
  });

  it("asks nothing of the store for a token with no id and no subject", async () => {
    const { store } = spyStore(() => Promise.reject(new Error("must not be asked")));
    expect(await createRevocationList({ store }).isRevoked({ exp: now() + 60 })).toBe(false);
  });
});

describe("through the verifier", () => {
  it("refuses a revoked token as revoked, on a cache hit as on a miss", async () => {
    const list = createRevocationList({ store: memory() });
    const verifier = createVerifier({ secret: HMAC_SECRET, isRevoked: list.isRevoked });
    const claims = roomsAccessClaims({}, Math.floor(now()));
    const token = signHmac(claims);
    expect((await verifier.verifyToken(token)).claims.jti).toBe(claims["jti"]);
    await list.revoke(token);
    await expect(verifier.verifyToken(token)).rejects.toMatchObject({ reason: "revoked", code: 450, status: 401 });
  });

  it("answers 503 when the list cannot be read, never letting the token through", async () => {
    const { store } = spyStore(() => Promise.reject(new Error("down")));
    const verifier = createVerifier({ secret: HMAC_SECRET, isRevoked: createRevocationList({ store }).isRevoked });
    await expect(verifier.verifyToken(signHmac(roomsAccessClaims({}, Math.floor(now()))))).rejects.toMatchObject({
      reason: "revocation_unavailable",
      status: 503,
    });
  });
});
