import request from "supertest";
import { BODY_401, BODY_450 } from "./fixtures/catalogue.js";

// The README's "run it" command starts this very app; here every example it prints is requested.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDemo } = require("../demo/server.js") as typeof import("../demo/server.js");

describe("the demo", () => {
  const demo = createDemo();

  it.each(demo.examples)("answers $status to $label", async ({ path, token, status }) => {
    const req = request(demo.app).get(path);
    const res = await (token === undefined ? req : req.set("Authorization", `Bearer ${token}`));
    expect(res.status).toBe(status);
  });

  it("answers with the catalogue", async () => {
    expect((await request(demo.app).get("/posts")).text).toBe(BODY_401);
    expect((await request(demo.app).get("/posts").set("Authorization", `Bearer ${demo.tokens.expired}`)).text).toBe(
      BODY_450,
    );
    const me = await request(demo.app).get("/me").set("Authorization", `Bearer ${demo.tokens.access}`);
    expect(me.body).toMatchObject({ sub: "demo-user", scopes: ["posts", "users"] });
  });
});
