import request from "supertest";
import { CASES, GUARDS, PASSING, tokenFor, worldOptions, type CaseWorld, type MakeApp } from "./cases.js";
import { JwksServer, makeKey } from "../fixtures/jwks-server.js";

export { GUARDS };

/** Runs the whole table of cases through one adapter, over real HTTP. */
export function adapterSuite(label: string, makeApp: MakeApp): void {
  describe(`${label}: the catalogue over HTTP`, () => {
    let world: CaseWorld;
    beforeAll(async () => {
      const server = await JwksServer.start([makeKey()]);
      world = { server, key: server.keys[0]!, options: worldOptions(server) };
    });
    afterAll(() => world.server.close());

    it.each(CASES)("answers $status to $name, and the handler never runs", async (row) => {
      const calls: string[] = [];
      const app = makeApp({ ...(row.options?.(world) ?? world.options) }, calls);
      const authorization = row.authorization(world);
      const req = request(app).get(row.path ?? "/");
      const res = await (authorization === undefined ? req : req.set("Authorization", authorization));
      expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([row.status, row.body, row.challenge]);
      expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(calls).toEqual([]);
    });

    it.each(PASSING)("lets a valid token through to $name", async ({ path, scope }) => {
      const calls: string[] = [];
      const res = await request(makeApp({ ...world.options }, calls))
        .get(path)
        .set("Authorization", tokenFor(world, { scope }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sub: "2f190942-c269-4124-93d7-5a7fa90144c9", scopes: scope.split(" ") });
      expect(calls).toEqual([path]);
    });

    it("lets a request without credentials through with no auth context when credentialsRequired is false", async () => {
      const calls: string[] = [];
      const app = makeApp({ ...world.options, credentialsRequired: false }, calls);
      const res = await request(app).get("/");
      expect([res.status, res.body]).toEqual([200, { sub: null, scopes: null }]);
      const bad = await request(app)
        .get("/")
        .set("Authorization", tokenFor(world, { exp: 1 }));
      expect(bad.status).toBe(401);
      expect(calls).toEqual(["/"]);
    });

    it("reads the token with getToken in place of the header", async () => {
      const calls: string[] = [];
      const getToken = (req: { headers: Record<string, unknown> }): string | undefined => {
        const value = req.headers["x-access-token"];
        return typeof value === "string" ? value : undefined;
      };
      const app = makeApp({ ...world.options, getToken }, calls);
      const ok = await request(app).get("/").set("X-Access-Token", tokenFor(world).slice(7));
      expect(ok.status).toBe(200);
      const missing = await request(app).get("/").set("Authorization", tokenFor(world));
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({
        error: { message: "A valid access token is required to access this resource.", code: 401 },
      });
    });
  });
}
