import request from "supertest";
import type { createDemo as CreateDemo } from "../demo/server.js";
import { BODY_401, BODY_450, body403 } from "./fixtures/catalogue.js";

// The README's "run it" command starts these very apps; here every example it prints is requested.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDemo } = require("../demo/server.js") as { createDemo: typeof CreateDemo };

describe("the demo", () => {
  let demo: Awaited<ReturnType<typeof CreateDemo>>;
  beforeAll(async () => {
    demo = await createDemo();
  });
  afterAll(() => demo.close());

  const bodies: Record<number, string> = { 401: BODY_450, 403: body403("admin") };

  for (const framework of ["express", "koa"] as const) {
    it(`answers every printed ${framework} example as it says`, async () => {
      const { app, examples } = demo[framework];
      const listener = framework === "koa" ? demo.koa.app.callback() : app;
      for (const { path, token, status } of examples) {
        const req = request(listener as Parameters<typeof request>[0]).get(path);
        const res = await (token === undefined ? req : req.set("Authorization", `Bearer ${token}`));
        expect([path, res.status]).toEqual([path, status]);
        if (status !== 200) expect(res.text).toBe(token === undefined ? BODY_401 : bodies[status]);
      }
    });
  }
});
