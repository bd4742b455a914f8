import request from "supertest";
import { CASES, GUARDS, PASSING, tokenFor, worldOptions, type Case, type CaseWorld, type MakeApp } from "./cases.js";
import { HOSTILE, ODD_BUT_VALID, unusableKeys } from "./hostile.js";
import { TokenError } from "bearer-gate";
import { BODY_400, BODY_401 } from "../fixtures/catalogue.js";
import { listen, rawRequest } from "../fixtures/http.js";
import { JwksServer, makeKey } from "../fixtures/jwks-server.js";

export { GUARDS };

/** Starts the key servers one adapter's table runs against. */
async function startWorld(): Promise<CaseWorld> {
  const key = makeKey();
  const server = await JwksServer.start([key, makeKey(), ...unusableKeys(key)]);
  const attackerKey = makeKey();
  const attacker = await JwksServer.start([attackerKey]);
  return { server, key, attacker, attackerKey, options: worldOptions(server) };
}

/** Runs the tables of cases through one adapter, over real HTTP. */
export function adapterSuite(label: string, makeApp: MakeApp): void {
  describe(`${label}: every answer over HTTP`, () => {
    let world: CaseWorld;
    beforeAll(async () => {
      world = await startWorld();
    });
    afterAll(async () => {
      await world.server.close();
      await world.attacker.close();
    });

    async function send(row: Case): Promise<void> {
      const calls: string[] = [];
      const app = makeApp({ ...(row.options?.(world) ?? world.options) }, calls);
      const authorization = row.authorization(world);
      const req = request(app).get(row.path ?? "/");
      // superagent sends a list as several header lines; its types only admit that for Cookie
      const res = await (authorization === undefined ? req : req.set("Authorization", authorization as string));
      expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([row.status, row.body, row.challenge]);
      expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(calls).toEqual([]);
    }

    it.each(CASES)("answers $status to $name, and the handler never runs", send);
    it.each(HOSTILE)("answers $status to $name, and the handler never runs", send);

    it.each(PASSING)("lets a valid token through to $name", async ({ path, scope }) => {
      const calls: string[] = [];
      const res = await request(makeApp({ ...world.options }, calls))
        .get(path)
        .set("Authorization", tokenFor(world, { scope }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sub: "2f190942-c269-4124-93d7-5a7fa90144c9", scopes: scope.split(" ") });
      expect(calls).toEqual([path]);
    });

    it.each(ODD_BUT_VALID)("lets $name through", async ({ authorization }) => {
      const res = await request(makeApp({ ...world.options }, []))
        .get("/")
        .set("Authorization", authorization(world));
      expect(res.status).toBe(200);
    });

    it("never fetches from a URL a token names (jku, x5u)", () => {
      expect(world.attacker.requests).toBe(0);
    });

    it("leaves Object.prototype untouched by __proto__, constructor and prototype claims", async () => {
      const hostile = {
        ["__proto__"]: { polluted: "yes" },
        constructor: { prototype: { polluted: "yes" } },
        prototype: { polluted: "yes" },
      };
      const res = await request(makeApp({ ...world.options }, []))
        .get("/")
        .set("Authorization", tokenFor(world, hostile));
      expect(res.status).toBe(200);
      expect(Object.prototype).not.toHaveProperty("polluted");
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    });

    it("answers a 100 KB Authorization header with 400 when the server admits it, and Node refuses it by default", async () => {
      const header = `Bearer ${"a".repeat(100_000)}`;
      const roomy = await listen(makeApp({ ...world.options }, []), { maxHeaderSize: 200_000 });
      const strict = await listen(makeApp({ ...world.options }, []));
      try {
        const res = await request(roomy.url).get("/").set("Authorization", header);
        expect([res.status, res.text]).toEqual([401, BODY_400]);
        const refused = await rawRequest(strict.port, `GET / HTTP/1.1\r\nHost: x\r\nAuthorization: ${header}\r\n\r\n`);
        expect(refused).toMatch(/^HTTP\/1\.1 431 /);
      } finally {
        await roomy.close();
        await strict.close();
      }
    });

    it("never runs the handler for control characters in the header (Node's parser or ours refuses them)", async () => {
      const calls: string[] = [];
      const app = await listen(makeApp({ ...world.options }, calls));
      try {
        for (const char of ["\u0000", "\u0001", "\u001b", "\u007f"]) {
          const answer = await rawRequest(
            app.port,
            `GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a${char}b.c.d\r\nConnection: close\r\n\r\n`,
          );
          expect(answer).toMatch(/^HTTP\/1\.1 40[01] /);
          if (answer.startsWith("HTTP/1.1 401")) expect(answer.endsWith(BODY_400)).toBe(true);
        }
        expect(calls).toEqual([]);
      } finally {
        await app.close();
      }
    });

    it("reports every refusal to onFailure (scope guards' too) and every pass to onSuccess, never the token", async () => {
      const failures: unknown[][] = [];
      const successes: unknown[] = [];
      const app = makeApp(
        {
          ...world.options,
          onFailure: (error: TokenError, req: unknown) => failures.push([error, typeof req]),
          onSuccess: (auth: { scopes: readonly string[] }) => successes.push(auth.scopes),
        },
        [],
      );
      const expired = tokenFor(world, { exp: 1 });
      await request(app).get("/").set("Authorization", expired);
      await request(app)
        .get("/posts")
        .set("Authorization", tokenFor(world, { scope: "users" }));
      await request(app).get("/");
      await request(app)
        .get("/")
        .set("Authorization", tokenFor(world, { scope: "posts" }));
      expect(
        failures.map(([error]) => [
          (error as TokenError).reason,
          (error as TokenError).code,
          (error as TokenError).status,
        ]),
      ).toEqual([
        ["expired", 450, 401],
        ["insufficient_scope", 450, 403],
        ["missing_token", 401, 401],
      ]);
      expect(failures.every(([error, req]) => error instanceof TokenError && req === "object")).toBe(true);
      expect(JSON.stringify(failures)).not.toContain(expired.slice(7, 40));
      expect(successes).toEqual([["users"], ["posts"]]);
    });

    it("answers as usual when an observability hook throws", async () => {
      const throwing = () => {
        throw new Error("logger down");
      };
      const app = makeApp({ ...world.options, onFailure: throwing, onSuccess: throwing }, []);
      expect((await request(app).get("/")).text).toBe(BODY_401);
      expect((await request(app).get("/").set("Authorization", tokenFor(world))).status).toBe(200);
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
