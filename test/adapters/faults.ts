import http from "node:http";
import { randomUUID } from "node:crypto";
import type { VerifierOptions } from "bearer-gate";
import { CLIENT_ID, cognitoAccessClaims, fixedClock, signRs256 } from "../fixtures/tokens.js";
import { BODY_450, BODY_980 } from "../fixtures/catalogue.js";
import { eventually } from "../helpers.js";
import { get, listen, type Listening } from "../fixtures/http.js";
import { JwksServer, makeKey, type Mode, type TestKey } from "../fixtures/jwks-server.js";
import { SEED_POOL_ID } from "../fixtures/seeds.js";
import { POOL_ISSUER, type MakeApp } from "./cases.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Key-server faults, rotation and stampedes, through one adapter on a real socket. */
export function faultSuite(label: string, makeApp: MakeApp): void {
  describe(`${label}: key-server faults over HTTP`, () => {
    let server: JwksServer;
    let key: TestKey;
    const running: Listening[] = [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });

    beforeAll(async () => {
      key = makeKey();
      server = await JwksServer.start([key]);
    });
    beforeEach(async () => {
      if (!server.listening) await server.up();
      Object.assign(server, { keys: [key], mode: "serve", requests: 0, delayMs: 0 });
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((app) => app.close()));
    });
    afterAll(async () => {
      agent.destroy();
      await server.close();
    });

    async function start(
      fetch: VerifierOptions["jwksFetch"] = {},
      calls: string[] = [],
    ): Promise<(token: string) => Promise<{ status: number; text: string; challenge: string | undefined }>> {
      const options: VerifierOptions = {
        cognito: { userPoolId: SEED_POOL_ID, clientId: CLIENT_ID },
        jwksUri: server.jwksUri,
        clock: fixedClock,
        jwksFetch: { timeoutMs: 300, retryAfterFailureMs: 0, ...fetch },
      };
      const app = await listen(makeApp({ ...options }, calls));
      running.push(app);
      return async (token) => {
        const res = await get(`${app.url}/`, { authorization: `Bearer ${token}` }, agent);
        const challenge = res.headers["www-authenticate"];
        return { status: res.status, text: res.text, challenge: typeof challenge === "string" ? challenge : undefined };
      };
    }
    const tokenOf = (signer: TestKey, kid = signer.kid): string =>
      signRs256(cognitoAccessClaims(POOL_ISSUER), signer, { kid });

    it.each<Mode | "down">(["down", "hang", "error500", "html", "empty", "huge", "redirect"])(
      "answers 503 while the key server is %s, stays up, and recovers by itself",
      async (fault) => {
        const calls: string[] = [];
        const send = await start({}, calls);
        if (fault === "down") await server.down();
        else server.mode = fault;
        for (let i = 0; i < 2; i++) {
          expect(await send(tokenOf(key))).toEqual({ status: 503, text: BODY_980, challenge: undefined });
        }
        expect(calls).toEqual([]);
        if (fault === "down") await server.up();
        server.mode = "serve";
        expect((await send(tokenOf(key))).status).toBe(200);
        expect(calls).toEqual(["/"]);
      },
    );

    it("waits no new download for a second after a failure by default, answering 503 at once", async () => {
      const send = await start({ retryAfterFailureMs: 1000 });
      server.mode = "error500";
      for (let i = 0; i < 5; i++) expect((await send(tokenOf(key))).status).toBe(503);
      expect(server.requests).toBe(1);
      server.mode = "serve";
      await sleep(1050);
      expect((await send(tokenOf(key))).status).toBe(200);
    });

    it("verifies a token signed with a new kid after exactly one refetch", async () => {
      const send = await start();
      expect((await send(tokenOf(key))).status).toBe(200);
      const rotated = makeKey();
      server.keys = [key, rotated];
      expect((await send(tokenOf(rotated))).status).toBe(200);
      expect(server.requests).toBe(2);
    });

    it("stops verifying with a removed key once the expired set has been refreshed", async () => {
      const send = await start({ cacheMaxAgeMs: 100 });
      expect((await send(tokenOf(key))).status).toBe(200);
      server.keys = [makeKey()];
      await sleep(120);
      // the first request past the age is served by the old set while the refresh runs
      await eventually(async () => expect(await send(tokenOf(key))).toMatchObject({ status: 401, text: BODY_450 }));
    });

    it("keeps cached keys in use while a scheduled refresh fails (stale-if-error)", async () => {
      const send = await start({ cacheMaxAgeMs: 100, staleIfErrorMs: 60_000, retryAfterFailureMs: 1000 });
      expect((await send(tokenOf(key))).status).toBe(200);
      server.mode = "error500";
      await sleep(120);
      for (let i = 0; i < 10; i++) expect((await send(tokenOf(key))).status).toBe(200);
      await eventually(() => expect(server.requests).toBe(2)); // the first download and one failed refresh
      for (let i = 0; i < 10; i++) expect((await send(tokenOf(key))).status).toBe(200);
      expect(server.requests).toBe(2); // no other refresh within retryAfterFailureMs
    });

    it("answers a token whose key is cached at once while the key server hangs on a refresh", async () => {
      const send = await start({ cacheMaxAgeMs: 100, timeoutMs: 3000 });
      expect((await send(tokenOf(key))).status).toBe(200);
      server.mode = "hang";
      await sleep(120); // the set is past its age: the next request starts a refresh that hangs
      const timings = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const started = performance.now();
          const { status } = await send(tokenOf(key));
          return { status, slow: performance.now() - started > 1000 };
        }),
      );
      expect(timings.filter(({ status, slow }) => status !== 200 || slow)).toEqual([]);
      expect(server.requests).toBe(2); // one refresh, in flight, shared by all
    });

    it("waits for the download in flight for a kid it does not know, and verifies the rotated key with it", async () => {
      const send = await start({ cacheMaxAgeMs: 100, timeoutMs: 2000 });
      expect((await send(tokenOf(key))).status).toBe(200);
      const rotated = makeKey();
      server.keys = [key, rotated];
      server.delayMs = 300;
      await sleep(120); // past the age: the next request starts a (slow) refresh
      const known = send(tokenOf(key));
      await sleep(50);
      expect((await send(tokenOf(rotated))).status).toBe(200); // joined the refresh in flight
      expect((await known).status).toBe(200);
      expect(server.requests).toBe(2);
    });

    it("accepts a rotated key within seconds while a flood of unknown kids runs, with few downloads", async () => {
      // 20 downloads a minute: one every 3 s once the burst is spent
      const send = await start({ refetchesPerMinute: 20 });
      expect((await send(tokenOf(key))).status).toBe(200);
      let flooding = true;
      let flooded = 0;
      const flood = (async () => {
        while (flooding && flooded < 6000) {
          await Promise.all(Array.from({ length: 20 }, () => send(tokenOf(key, randomUUID()))));
          flooded += 20;
        }
      })();
      try {
        await eventually(() => expect(server.requests).toBeGreaterThanOrEqual(21)); // the burst is spent
        const rotated = makeKey();
        server.keys = [key, rotated];
        const rotatedAt = performance.now();
        await eventually(async () => expect((await send(tokenOf(rotated))).status).toBe(200), 8000);
        expect(performance.now() - rotatedAt).toBeLessThan(3000 + 1000);
      } finally {
        flooding = false;
        await flood;
      }
      expect(flooded).toBeGreaterThan(100);
      // the first download, the burst of 20, and one a 3 s since
      expect(server.requests).toBeLessThanOrEqual(1 + 20 + 3);
    }, 20_000);

    it("never makes a token with a cached key wait for a refetch that unknown kids caused", async () => {
      const send = await start({ timeoutMs: 2000 });
      expect((await send(tokenOf(key))).status).toBe(200);
      server.mode = "hang";
      const finished: string[] = [];
      const flood = Array.from({ length: 50 }, () =>
        send(tokenOf(key, randomUUID())).then((res) => finished.push(`unknown:${res.status}`)),
      );
      await sleep(50); // the refetch is now hanging
      const known = await send(tokenOf(key));
      finished.push(`known:${known.status}`);
      expect(finished.filter((entry) => entry.startsWith("unknown:503"))).toEqual([]); // still hanging
      await Promise.all(flood);
      expect(known.status).toBe(200);
      expect(server.requests).toBe(2);
    });

    it("makes exactly one download for 1,000 concurrent requests at a cold start", async () => {
      const send = await start({ timeoutMs: 5000 });
      server.delayMs = 300; // every request arrives while the one download is in flight
      const results = await Promise.all(Array.from({ length: 1000 }, () => send(tokenOf(key))));
      expect(results.filter((res) => res.status !== 200)).toEqual([]);
      expect(server.requests).toBe(1);
    });

    it("makes no more downloads for 1,000 random unknown kids than the rate limit allows", async () => {
      const send = await start({ refetchesPerMinute: 5 });
      const results = await Promise.all(Array.from({ length: 1000 }, () => send(tokenOf(key, randomUUID()))));
      expect(results.filter((res) => res.status !== 401)).toEqual([]);
      expect(server.requests).toBeLessThanOrEqual(1 + 5);
      expect((await send(tokenOf(key))).status).toBe(200);
    });
  });
}
