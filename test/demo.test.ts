import request from "supertest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { createDemo as CreateDemo, start as Start } from "../demo/server.js";
import { BODY_401, BODY_450, body403 } from "./fixtures/catalogue.js";

// The README's "run it" command starts these very apps; here every example it prints is requested.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDemo, start } = require("../demo/server.js") as { createDemo: typeof CreateDemo; start: typeof Start };

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

  it("says which port is busy and how to pick another, with no stack trace", async () => {
    const busy = http.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const { port } = busy.address() as AddressInfo;
    const said: string[] = [];
    const out = {
      log: (text: string) => said.push(`log: ${text}`),
      error: (text: string) => said.push(`error: ${text}`),
    };
    try {
      // Express would take the busy port; Koa, the port after it
      expect(await start(demo, port, out)).toBeUndefined();
      expect(said).toEqual([
        `error: bearer-gate demo: port ${port} on 127.0.0.1 is in use (the demo takes PORT and PORT + 1, ${port} and ${port + 1} now).\n` +
          "Pick others: PORT=4000 npm run demo (4000 and 4001), or PORT=0 npm run demo for any free ones.",
      ]);
      said.length = 0;
      expect(await start(demo, "abc", out)).toBeUndefined();
      expect(said).toEqual(['error: bearer-gate demo: PORT must be a port number (0 to 65534), got "abc".']);
    } finally {
      busy.close();
    }
  });

  it("starts on free ports and stops", async () => {
    const said: string[] = [];
    const stop = await start(demo, 0, { log: (text) => said.push(text), error: (text) => said.push(text) });
    expect(stop).toBeInstanceOf(Function);
    stop?.();
    expect(said.filter((text) => text.startsWith("== "))).toHaveLength(2);
  });
});
