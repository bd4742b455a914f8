import { createMemoryReplayStore, createVerifier, jwkThumbprint, type BindingRequest } from "bearer-gate";
import { createDpopKey, hmacTokens, type DpopProofOptions } from "bearer-gate/testing";
import { rejectionOf } from "../helpers.js";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const ORIGIN = "https://api.example.test";
const tokens = hmacTokens(SECRET);
const key = createDpopKey();

// what each refusal's cause says: each hostile proof is refused for its own reason
describe("verify(header, request) with dpop: each check, by the cause it leaves", () => {
  const verifier = createVerifier(tokens.options({ dpop: { origin: ORIGIN } }));
  const token = tokens.access({ dpopKey: key });
  const request = (dpop: BindingRequest["dpop"], path = "/orders"): BindingRequest => ({ method: "GET", path, dpop });
  const proof = (extra: Partial<DpopProofOptions> = {}): string =>
    key.proof({ method: "GET", url: `${ORIGIN}/orders`, accessToken: token, ...extra });
  const causeOf = async (dpop: BindingRequest["dpop"], path?: string): Promise<string> => {
    const error = await rejectionOf(verifier.verify(`DPoP ${token}`, request(dpop, path)));
    expect(error.reason).toMatch(/dpop/);
    return (error.cause as Error).message;
  };

  it.each<[string, () => BindingRequest["dpop"], RegExp]>([
    ["no proof", () => undefined, /no DPoP header/],
    ["two proofs", () => [proof(), proof()], /more than one DPoP header/],
    ["another method", () => proof({ method: "DELETE" }), /htm "DELETE" is not GET/],
    ["another path", () => proof({ url: `${ORIGIN}/users` }), /htu .* is not https:\/\/api.example.test\/orders/],
    ["another access token", () => proof({ accessToken: "x" }), /ath is not the hash/],
    ["an old iat", () => proof({ iat: 1 }), /iat 1 is too old/],
    ["a typ of JWT", () => proof({ header: { typ: "JWT" } }), /typ "JWT" is not dpop\+jwt/],
    ["an alg not allowed", () => proof({ header: { alg: "ES384" } }), /alg "ES384" is not allowed/],
    ["a private jwk", () => proof({ header: { jwk: key.privateKey.export({ format: "jwk" }) } }), /private key/],
    ["another key's jwk", () => proof({ header: { jwk: createDpopKey().publicJwk } }), /signature does not verify/],
    ["no jti", () => proof({ claims: { jti: undefined } }), /no usable jti/],
    ["a jti of 257 characters", () => proof({ jti: "j".repeat(257) }), /no usable jti/],
  ])("%s", async (_case, make, cause) => {
    expect(await causeOf(make())).toMatch(cause);
  });

  it("normalises htu and the path as RFC 3986 says (case of scheme and host, default port, dot segments)", async () => {
    const auth = await verifier.verify(
      `DPoP ${token}`,
      request(proof({ url: "HTTPS://API.Example.Test:443/a/../orders" }), "/orders?page=1"),
    );
    expect(auth.binding).toEqual({ method: "dpop", thumbprint: key.thumbprint });
  });

  it("asks for the request when none is given, as a fault of the app's (980), never a pass", async () => {
    const error = await rejectionOf(verifier.verify(`DPoP ${token}`));
    expect([error.reason, (error.cause as Error).message]).toEqual([
      "internal_error",
      "a DPoP token needs the request to check its proof: verify(header, { method, path, dpop })",
    ]);
  });

  it("the thumbprint is RFC 7638's (its §3.1 example key)", () => {
    const jwk = {
      kty: "RSA",
      n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
      e: "AQAB",
      alg: "RS256",
      kid: "2011-04-29",
    };
    expect(jwkThumbprint(jwk)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    expect(jwkThumbprint({ kty: "oct", k: "c2VjcmV0" })).toBeUndefined();
  });
});

describe("createMemoryReplayStore", () => {
  it("answers true once per key while its time to live runs, then forgets it", () => {
    let now = 0;
    const store = createMemoryReplayStore({ clock: () => now });
    expect([store.add("a", 1000), store.add("a", 1000), store.add("b", 1000)]).toEqual([true, false, true]);
    now = 1000;
    expect(store.add("a", 1000)).toBe(true);
  });

  it("full of live proofs, refuses a new one (a 503) rather than forget one that could be replayed", () => {
    let now = 0;
    const store = createMemoryReplayStore({ maxEntries: 2, clock: () => now });
    expect([store.add("a", 1000), store.add("b", 1000)]).toEqual([true, true]);
    expect(() => store.add("c", 1000)).toThrow(/full/);
    now = 1000; // a and b expired: room again
    expect([store.add("c", 1000), store.add("a", 1000)]).toEqual([true, true]);
  });

  it("through the verifier: a full store answers replay_unavailable with Retry-After", async () => {
    const verifier = createVerifier(
      tokens.options({ dpop: { origin: ORIGIN, replayStore: createMemoryReplayStore({ maxEntries: 1 }) } }),
    );
    const token = tokens.access({ dpopKey: key });
    const send = () =>
      verifier.verify(`DPoP ${token}`, {
        method: "GET",
        path: "/",
        dpop: key.proof({ method: "GET", url: `${ORIGIN}/`, accessToken: token }),
      });
    await send();
    const error = await rejectionOf(send());
    expect([error.reason, error.status, error.retryAfter]).toEqual(["replay_unavailable", 503, 1]);
  });
});
