import {
  createVerifier,
  groupList,
  inAnyGroup,
  isUserToken,
  missingScopes,
  parseGroups,
  parseScopes,
  scopeList,
  TokenError,
} from "bearer-gate";
import { fixedClock, HMAC_SECRET, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";
import { thrownBy } from "../helpers.js";

describe("parseScopes", () => {
  it.each([
    ["posts users", ["posts", "users"]],
    ["users,posts,camps", ["users", "posts", "camps"]],
    [" posts  users ", ["posts", "users"]],
    [
      ["posts", "users"],
      ["posts", "users"],
    ],
    ["posts posts", ["posts"]],
    ["", []],
    [undefined, []],
    [[], []],
  ])("parses %j", (claim, scopes) => {
    expect(parseScopes(claim)).toEqual(scopes);
  });

  it.each([42, { posts: true }, [1, 2], null, true])("refuses %j as malformed_token", (claim) => {
    expect(thrownBy(() => parseScopes(claim))).toMatchObject({ reason: "malformed_token", code: 450 });
  });
});

describe("missingScopes", () => {
  it("lists every missing scope, in the guard's order, when all are required", () => {
    expect(missingScopes(["posts"], ["users", "posts", "camps"])).toEqual(["users", "camps"]);
    expect(missingScopes(["posts", "users"], ["users", "posts"], "all")).toEqual([]);
  });

  it("lists all scopes only when none is granted, when any will do", () => {
    expect(missingScopes(["camps"], ["posts", "users"], "any")).toEqual(["posts", "users"]);
    expect(missingScopes(["users"], ["posts", "users"], "any")).toEqual([]);
  });
});

describe("scopeList", () => {
  it.each([[[]], [[""]], [["posts users"]], [["a,b"]], [[42]]])("refuses %j at startup", (scopes) => {
    expect(thrownBy(() => scopeList(scopes, "requireScope"))).toMatchObject({ name: "ConfigError" });
  });
});

describe("parseGroups", () => {
  it.each([
    [
      ["admins", "editors"],
      ["admins", "editors"],
    ],
    ["admins editors", ["admins", "editors"]],
    ["admins,editors", ["admins", "editors"]],
    [["site-admins", ""], ["site-admins"]],
    [undefined, []],
  ])("parses %j", (claim, groups) => {
    expect(parseGroups(claim)).toEqual(groups);
  });

  it("hands back a frozen list of the claim as it is, without a copy", () => {
    const claim = Object.freeze(["admins", "editors"]);
    expect(parseGroups(claim)).toBe(claim);
  });

  it.each([[7], [{ admins: true }], [["admins", 7]], [null]])("refuses %j as malformed_token", (claim) => {
    expect(thrownBy(() => parseGroups(claim))).toMatchObject({ reason: "malformed_token" });
  });

  it("matches a guard's groups when any one is held, and checks guard names at startup", () => {
    expect([inAnyGroup(["editors"], ["admins", "editors"]), inAnyGroup([], ["admins"])]).toEqual([true, false]);
    expect(groupList(["admins"], "requireGroup")).toEqual(["admins"]);
    for (const bad of [[], [""], ["site admins"], [7]]) {
      expect(() => groupList(bad, "requireGroup")).toThrow("requireGroup()");
    }
  });
});

describe("isUserToken", () => {
  it.each([
    [{ type: "user", uid: 2 }, true],
    [{ type: "bot", uid: 9 }, false],
    [{ token_use: "access", username: "carlos" }, true],
    [{ token_use: "id", "cognito:username": "carlos" }, true],
    [{ token_use: "access", client_id: "machine", scope: "orders/read" }, false],
    [{ username: "carlos" }, false], // not a Cognito token, no type: not known to be a user's
    [{}, false],
  ])("judges %j", (claims, isUser) => {
    expect(isUserToken(claims)).toBe(isUser);
  });
});

describe("getScopes in the core", () => {
  const token = `Bearer ${signHmac(roomsAccessClaims({ scope: undefined }))}`;

  it("gives verify() the server's scopes, with no request, on a miss and on a hit alike", async () => {
    const seen: unknown[] = [];
    const verifier = createVerifier({
      secret: HMAC_SECRET,
      clock: fixedClock,
      getScopes: (claims, request) => {
        seen.push(request);
        return claims["atid"] === 36 ? ["users", "posts", "users"] : [];
      },
    });
    const [miss, hit] = [await verifier.verify(token), await verifier.verify(token)];
    expect([miss.scopes, hit.scopes, seen]).toEqual([
      ["users", "posts"],
      ["users", "posts"],
      [undefined, undefined],
    ]);
  });

  it("ignores the token's own scope claim when getScopes is set", async () => {
    const verifier = createVerifier({ secret: HMAC_SECRET, clock: fixedClock, getScopes: () => "" });
    const withClaim = `Bearer ${signHmac(roomsAccessClaims({ scope: "users,posts" }))}`;
    expect((await verifier.verify(withClaim)).scopes).toEqual([]);
  });

  it("answers internal_error, with a cause that says what came back, for a result of the wrong type", async () => {
    const verifier = createVerifier({ secret: HMAC_SECRET, clock: fixedClock, getScopes: () => 7 as never });
    const error = await verifier.verify(token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ reason: "internal_error", code: 980 });
    expect(String((error as Error).cause)).toContain("getScopes returned number");
  });
});
