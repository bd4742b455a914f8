import { missingScopes, parseScopes, scopeList } from "bearer-gate";
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
