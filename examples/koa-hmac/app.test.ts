import request from "supertest";
import type { ErrorBody } from "bearer-gate";
import { hmacTokens } from "bearer-gate/testing";
import { createApp } from "./app.js";

describe("the Koa + HMAC example", () => {
  const tokens = hmacTokens("an-example-secret-of-32-bytes!!!");
  const metrics = new Map<string, number>();
  const app = createApp(tokens.options(), metrics).callback();

  it("serves a user with an access token", async () => {
    const res = await request(app)
      .get("/me")
      .set("Authorization", `Bearer ${tokens.access({ uid: 7 })}`);
    expect([res.status, res.body]).toEqual([200, { user: 7, scopes: ["users", "posts", "camps"] }]);
  });

  it("refuses the refresh token as an access token, and counts it", async () => {
    const res = await request(app).get("/me").set("Authorization", `Bearer ${tokens.refresh()}`);
    expect([res.status, (res.body as ErrorBody).error.code]).toEqual([401, 450]);
    expect(metrics.get("wrong_token_use")).toBe(1);
  });

  it("guards a route with a scope", async () => {
    const res = await request(app)
      .get("/camps")
      .set("Authorization", `Bearer ${tokens.access({ scope: "users" })}`);
    expect([res.status, (res.body as ErrorBody).error.params]).toEqual([403, ["camps"]]);
    expect(metrics.get("insufficient_scope")).toBe(1);
  });
});
