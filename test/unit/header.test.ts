import { checkTokenChars, readAuthorization, readBearer } from "../../src/token/header.js";
import { thrownBy } from "../helpers.js";

// what verify() does with a header on a cache miss: read it, then check the token's characters
function readChecked(value: string | undefined, max: number): string {
  const token = readBearer(value, max);
  checkTokenChars(token);
  return token;
}

describe("readBearer and checkTokenChars", () => {
  it.each([
    ["Bearer abc.def.ghi", "abc.def.ghi"],
    ["bearer abc.def.ghi", "abc.def.ghi"],
    ["BEARER   a-b_c.d.e", "a-b_c.d.e"],
  ])("reads the token out of %j", (value, token) => {
    expect(readChecked(value, 8192)).toBe(token);
  });

  it("answers missing_token when there is no header", () => {
    expect(thrownBy(() => readBearer(undefined, 8192))).toMatchObject({
      reason: "missing_token",
      code: 401,
      status: 401,
    });
  });

  it.each([
    "",
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "Bearer ",
    "Bearer a b",
    "Bearer a.b.c d",
    "Bearer\tabc.def.ghi",
    "Bearerabc.def.ghi",
    "Bearer abc.def.ghi=",
    "Bearer abc.def+ghi",
    "Bearer abc.déf.ghi",
    "Bearer abc.def.ghi\n",
    " Bearer abc.def.ghi",
    "Token abc.def.ghi",
  ])("refuses %j as malformed_header", (value) => {
    expect(thrownBy(() => readChecked(value, 8192))).toMatchObject({
      reason: "malformed_header",
      code: 400,
      status: 401,
    });
  });

  it.each([[42], [{}], [[42]]])("refuses the non-string %j as malformed_header", (value) => {
    expect(thrownBy(() => readBearer(value as unknown as string, 8192))).toMatchObject({ reason: "malformed_header" });
  });

  it("reads one header given as a list, refuses several, and takes an empty list as none", () => {
    expect(readBearer(["Bearer abc.def.ghi"], 8192)).toBe("abc.def.ghi");
    expect(thrownBy(() => readBearer(["Bearer abc.def.ghi", "Bearer abc.def.ghi"], 8192))).toMatchObject({
      reason: "malformed_header",
    });
    expect(thrownBy(() => readBearer([], 8192))).toMatchObject({ reason: "missing_token" });
  });

  it("refuses a token longer than the limit as token_too_long", () => {
    expect(thrownBy(() => readBearer(`Bearer ${"a".repeat(101)}`, 100))).toMatchObject({
      reason: "token_too_long",
      code: 400,
    });
    expect(readBearer(`Bearer ${"a".repeat(100)}`, 100)).toHaveLength(100);
  });

  it("refuses a huge header before reading it", () => {
    expect(thrownBy(() => readBearer(`Basic ${"a".repeat(100_000)}`, 8192))).toMatchObject({
      reason: "token_too_long",
    });
  });
});

describe("readAuthorization", () => {
  it.each<[string, string[], string | string[] | undefined]>([
    ["no header", ["Host", "a.test"], undefined],
    ["one header, any case", ["host", "a.test", "AUTHORIZATION", "Bearer x"], "Bearer x"],
    ["an empty header", ["authorization", ""], ""],
    ["a header named alike", ["authorizations", "Bearer x", "x-authorization", "Bearer y"], undefined],
    ["two headers, both kept", ["Authorization", "Bearer a", "authorization", "Bearer b"], ["Bearer a", "Bearer b"]],
    ["three headers", ["authorization", "1", "authorization", "2", "Authorization", "3"], ["1", "2", "3"]],
  ])("reads %s from rawHeaders (HTTP/1.1 and HTTP/2 alike)", (_name, rawHeaders, expected) => {
    expect(readAuthorization({ rawHeaders })).toEqual(expected);
  });

  it("hands several headers to readBearer, which refuses them", () => {
    const several = readAuthorization({
      rawHeaders: ["authorization", "Bearer a.b.c", "authorization", "Bearer a.b.c"],
    });
    expect(thrownBy(() => readBearer(several, 8192))).toMatchObject({ reason: "malformed_header" });
  });
});
