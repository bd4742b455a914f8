import request from "supertest";
import type { ErrorBody } from "bearer-gate";
import { createTestIssuer, type TestIssuer } from "bearer-gate/testing";
import { createApp } from "./app.js";

describe("the Express + Cognito example", () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ clientId: "web" });
    jest.spyOn(console, "log").mockImplementation(() => undefined); // the example logs refusals
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await issuer.close();
  });

  const app = () => createApp(issuer.cognitoOptions());

  it("serves the signed-in user", async () => {
    const res = await request(app())
      .get("/me")
      .set("Authorization", `Bearer ${issuer.accessToken({ sub: "u1" })}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: "u1", username: "test-user" });
  });

  it("needs every scope a route lists", async () => {
    const token = issuer.accessToken({ scope: "posts" });
    expect((await request(app()).delete("/posts/7").set("Authorization", `Bearer ${token}`)).status).toBe(403);
    const admin = issuer.accessToken({ scope: "posts admin" });
    expect((await request(app()).delete("/posts/7").set("Authorization", `Bearer ${admin}`)).body).toEqual({
      deleted: "7",
    });
  });

  it("asks the client to refresh an expired token (code 450)", async () => {
    const res = await request(app())
      .get("/me")
      .set("Authorization", `Bearer ${issuer.accessToken({ expiresIn: -60 })}`);
    expect([res.status, (res.body as ErrorBody).error.code]).toEqual([401, 450]);
  });

  it("refuses an ID token and a token for another app client", async () => {
    expect((await request(app()).get("/me").set("Authorization", `Bearer ${issuer.idToken()}`)).status).toBe(401);
    const other = issuer.accessToken({ client_id: "someone-else" });
    expect((await request(app()).get("/me").set("Authorization", `Bearer ${other}`)).status).toBe(401);
  });

  it("keeps working through a key rotation", async () => {
    const server = app();
    await request(server).get("/me").set("Authorization", `Bearer ${issuer.accessToken()}`);
    await issuer.rotate();
    const res = await request(server).get("/me").set("Authorization", `Bearer ${issuer.accessToken()}`);
    expect(res.status).toBe(200);
  });
});
