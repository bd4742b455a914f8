import { decodeJwt } from "../../src/token/decode.js";
import { thrownBy } from "../helpers.js";
import { rawToken } from "../fixtures/tokens.js";

const header = { alg: "HS256", typ: "JWT" };
const payload = { sub: "u1", exp: 2_000_000_000 };

describe("decodeJwt", () => {
  it("parses header and payload", () => {
    const decoded = decodeJwt(rawToken(header, payload));
    expect(decoded.header).toEqual(header);
    expect(decoded.payload).toEqual(payload);
  });

  it("gives every parsed object a null prototype, so __proto__ stays an ordinary claim", () => {
    const decoded = decodeJwt(
      rawToken(header, '{"exp":1,"__proto__":{"polluted":true},"nested":{"__proto__":{"x":1}}}'),
    );
    expect(Object.getPrototypeOf(decoded.payload)).toBeNull();
    expect(Object.hasOwn(decoded.payload, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(decoded.payload["nested"])).toBeNull();
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("gives objects of many keys a null prototype too, with __proto__ an ordinary claim at every depth", () => {
    const wide = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    const json = JSON.stringify({ exp: 1, ...wide }).replace(
      /}$/,
      ',"__proto__":{"polluted":true,"deep":[{"__proto__":{"x":1}}]}}',
    );
    const decoded = decodeJwt(rawToken(header, json));
    expect(Object.getPrototypeOf(decoded.payload)).toBeNull();
    expect(Object.keys(decoded.payload)).toHaveLength(42);
    const own = decoded.payload["__proto__"] as Record<string, unknown>;
    expect(Object.hasOwn(decoded.payload, "__proto__") && Object.getPrototypeOf(own) === null).toBe(true);
    const deep = (own["deep"] as Record<string, unknown>[])[0]!;
    expect(Object.hasOwn(deep, "__proto__") && Object.getPrototypeOf(deep) === null).toBe(true);
    expect(Object.isFrozen(decoded.payload) && Object.isFrozen(own) && Object.isFrozen(deep)).toBe(true);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("answers a header seen before with the same frozen object, and still refuses a bad one every time", () => {
    const first = decodeJwt(rawToken(header, payload)).header;
    expect(decodeJwt(rawToken(header, { exp: 3 })).header).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const crit = rawToken({ alg: "HS256", crit: ["exp"] }, payload);
    for (let i = 0; i < 2; i++) expect(thrownBy(() => decodeJwt(crit))).toMatchObject({ reason: "malformed_token" });
  });

  it("counts at most what the payload takes on the heap, more for every object, list, string and number", () => {
    const bytes = (claims: object): number => decodeJwt(rawToken(header, claims)).heapBytes;
    const base = bytes({ exp: 1 });
    expect(bytes({ exp: 1, e: Array.from({ length: 100 }, () => ({})) })).toBeGreaterThanOrEqual(base + 100 * 96);
    expect(bytes({ exp: 1, a: Array.from({ length: 100 }, () => []) })).toBeGreaterThanOrEqual(base + 100 * 64);
    expect(bytes({ exp: 1, s: "x".repeat(1000) })).toBeGreaterThanOrEqual(base + 1000);
    // a character outside ASCII makes every string count two bytes a character
    expect(bytes({ exp: 1, s: "é".repeat(1000) })).toBeGreaterThanOrEqual(base + 2000);
  });

  it.each([
    ["two segments", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9"],
    ["four segments", `${rawToken(header, payload)}.abc`],
    ["an empty header", `.${rawToken(header, payload).split(".")[1]}.sig`],
    ["an empty payload", `${rawToken(header, payload).split(".")[0]}..sig`],
    ["a header that is not JSON", rawToken("not json", payload)],
    ["a header that is an array", rawToken([1, 2], payload)],
    ["a payload that is a string", rawToken(header, '"just a string"')],
    ["a payload that is null", rawToken(header, "null")],
    ["a payload that is a number", rawToken(header, "42")],
    ["no alg", rawToken({ typ: "JWT" }, payload)],
    ["a numeric alg", rawToken({ alg: 256 }, payload)],
    ["a numeric kid", rawToken({ alg: "RS256", kid: 7 }, payload)],
    ["a crit header", rawToken({ alg: "HS256", crit: ["exp"], exp: 1 }, payload)],
    ["exp as a string", rawToken(header, { exp: "2000000000" })],
    ["nbf as an object", rawToken(header, { exp: 1, nbf: {} })],
    ["iat as a boolean", rawToken(header, { exp: 1, iat: true })],
    ["iss as a number", rawToken(header, { exp: 1, iss: 7 })],
    ["sub as an array", rawToken(header, { exp: 1, sub: ["a"] })],
    ["aud as a number", rawToken(header, { exp: 1, aud: 7 })],
    ["aud with a number member", rawToken(header, { exp: 1, aud: ["a", 7] })],
    [
      "invalid UTF-8",
      `${Buffer.from([0x7b, 0xff, 0x7d]).toString("base64url")}.${rawToken(header, payload).split(".")[1]}.sig`,
    ],
    [
      "an overlong encoding",
      rawToken(header, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d])),
    ],
    [
      "a UTF-16 surrogate in UTF-8",
      rawToken(header, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])),
    ],
    [
      "a cut multi-byte character",
      rawToken(header, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d])),
    ],
    ["a character that is not base64url", rawToken(header, payload).replace(".", ".+")],
    ["a segment of impossible length", `${rawToken(header, payload).split(".")[0]}a.e30.sig`],
    ["base64 padding", `${rawToken(header, payload)}=`],
  ])("refuses %s as malformed_token", (_name, token) => {
    expect(thrownBy(() => decodeJwt(token))).toMatchObject({ reason: "malformed_token", code: 450, status: 401 });
  });
});
