import { decodeJwt } from "../../src/decode.js";
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
    ["a segment of impossible length", `${rawToken(header, payload).split(".")[0]}a.e30.sig`],
    ["base64 padding", `${rawToken(header, payload)}=`],
  ])("refuses %s as malformed_token", (_name, token) => {
    expect(thrownBy(() => decodeJwt(token))).toMatchObject({ reason: "malformed_token", code: 450, status: 401 });
  });
});
