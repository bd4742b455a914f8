import type { RequestListener, ServerResponse } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import request from "supertest";
import {
  createRevocationList,
  createVerifier,
  KeySetError,
  TokenError,
  type AuthContext,
  type RevocationStore,
  type VerifierOptions,
} from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { BODY_400, BODY_401, BODY_420, BODY_450, BODY_980 } from "../fixtures/catalogue.js";
import { listen, type Listening } from "../fixtures/http.js";
import { JwksServer, makeKey, type TestKey } from "../fixtures/jwks-server.js";
import {
  cognitoAccessClaims,
  fixedClock,
  HMAC_SECRET,
  roomsAccessClaims,
  signHmac,
  signRs256,
} from "../fixtures/tokens.js";
import { eventually, rejectionOf } from "../helpers.js";

// Reliability round three (issue 18) through real HTTP on Express 5 and 4 and Koa 3 and 2.

type Guard = "scope" | "group" | "user" | "none";
interface Spec {
  readonly options: VerifierOptions;
  readonly onFailure?: (error: TokenError) => void | Promise<void>;
  readonly onSuccess?: (auth: AuthContext) => void | Promise<void>;
  /** What runs before the guard: requireToken, a hand-made auth context, or requireToken then a copy of its context. */
  readonly before?: "requireToken" | "hand-made" | "spread";
  readonly guard?: Guard;
}
interface App {
  readonly listener: RequestListener;
  /** The auth context each request's handler saw (`null` for an anonymous one). */
  readonly handled: (AuthContext | null)[];
}
type MakeApp = (spec: Spec) => App;

// every field an auth context has, as express-jwt or a test double might set it
const HAND_MADE: AuthContext = {
  token: "x",
  claims: { exp: 4_102_444_800, type: "user" },
  scopes: ["posts"],
  groups: ["admins"],
  userPoolId: undefined,
  clientId: "web",
  resource: undefined,
  binding: undefined,
  issuer: undefined,
  expiresAt: new Date(4_102_444_800_000),
  expiresIn: 60,
};

function expressApp(factory: typeof express): MakeApp {
  return ({ options, onFailure, onSuccess, before = "requireToken", guard = "none" }) => {
    const app = factory();
    const handled: App["handled"] = [];
    if (before === "hand-made") {
      app.use((req, _res, next) => {
        (req as { auth?: unknown }).auth = HAND_MADE;
        next();
      });
    } else {
      app.use(expressGate.requireToken({ ...options, onFailure, onSuccess }));
      if (before === "spread") {
        app.use((req, _res, next) => {
          req.auth = { ...req.auth };
          next();
        });
      }
    }
    const guards = {
      scope: expressGate.requireScope("posts"),
      group: expressGate.requireGroup("admins"),
      user: expressGate.requireUser(),
      none: (_req: express.Request, _res: express.Response, next: express.NextFunction) => next(),
    };
    app.get("/", guards[guard], (req, res) => {
      handled.push(req.auth ?? null);
      res.json({ ok: true });
    });
    return { listener: app, handled };
  };
}

function koaApp(Framework: typeof Koa): MakeApp {
  return ({ options, onFailure, onSuccess, before = "requireToken", guard = "none" }) => {
    const app = new Framework();
    const handled: App["handled"] = [];
    if (before === "hand-made") {
      app.use((ctx, next) => {
        ctx.state["auth"] = HAND_MADE;
        return next();
      });
    } else {
      app.use(koaGate.requireToken({ ...options, onFailure, onSuccess }));
      if (before === "spread") {
        app.use((ctx, next) => {
          ctx.state.auth = { ...ctx.state.auth };
          return next();
        });
      }
    }
    const guards: Record<Guard, Koa.Middleware> = {
      scope: koaGate.requireScope("posts"),
      group: koaGate.requireGroup("admins"),
      user: koaGate.requireUser(),
      none: (_ctx, next) => next(),
    };
    app.use(guards[guard]);
    app.use((ctx) => {
      handled.push(ctx.state["auth"] ?? null);
      ctx.body = { ok: true };
    });
    const callback = app.callback();
    return { listener: (req, res) => void callback(req, res), handled };
  };
}

const FRAMEWORKS: [string, MakeApp][] = [
  ["Express 5", expressApp(express)],
  ["Express 4", expressApp(express4)],
  ["Koa 3", koaApp(Koa)],
  ["Koa 2", koaApp(Koa2)],
];

const hmac: VerifierOptions = { secret: HMAC_SECRET, clock: fixedClock };
const userToken = signHmac(roomsAccessClaims({ scope: "posts" }));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The codes of the process warnings emitted while `work` runs. */
async function warningsDuring(work: () => Promise<void>): Promise<string[]> {
  const spy = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
  try {
    await work();
    await sleep(20); // a rejection is heard a tick later
    return spy.mock.calls.map(([, options]) => String((options as { code?: string } | undefined)?.code));
  } finally {
    spy.mockRestore();
  }
}

describe.each(FRAMEWORKS)("%s", (_name, makeApp) => {
  describe("hooks that throw or reject never change the answer nor crash the process", () => {
    const rejecting = (): Promise<void> => Promise.reject(new Error("the log backend is down"));
    const throwing = (): void => {
      throw new Error("the log backend is down");
    };

    it.each([
      ["an async hook that rejects", rejecting],
      ["a hook that throws", throwing],
    ])("%s: refused and accepted requests answer as without it, and it is told once", async (_kind, hook) => {
      const quiet = makeApp({ options: hmac, guard: "scope" });
      // two hooks, each failing on every call
      const app = makeApp({ options: hmac, guard: "scope", onFailure: () => hook(), onSuccess: () => hook() });
      const codes = await warningsDuring(async () => {
        for (const [authorization, status, body] of [
          [undefined, 401, BODY_401],
          ["Bearer not.a.jwt", 401, BODY_450],
          [`Bearer ${signHmac(roomsAccessClaims({ scope: "users" }))}`, 403, undefined],
          [`Bearer ${userToken}`, 200, '{"ok":true}'],
          [`Bearer ${userToken}`, 200, '{"ok":true}'],
        ] as const) {
          const send = (listener: RequestListener) => {
            const req = request(listener).get("/");
            return authorization === undefined ? req : req.set("Authorization", authorization);
          };
          const [withHook, without] = [await send(app.listener), await send(quiet.listener)];
          expect([withHook.status, withHook.text, withHook.headers["www-authenticate"]]).toEqual([
            without.status,
            without.text,
            without.headers["www-authenticate"],
          ]);
          expect(withHook.status).toBe(status);
          if (body !== undefined) expect(withHook.text).toBe(body);
        }
      });
      expect(app.handled).toHaveLength(2);
      // once per hook: onFailure, onSuccess
      expect(codes.filter((code) => code === "BEARER_GATE_HOOK_FAILED")).toHaveLength(2);
    });

    it("a revocation list's async onError that rejects changes nothing (onStoreError allow)", async () => {
      const broken: RevocationStore = {
        revokeId: () => Promise.resolve(),
        revokeSubject: () => Promise.resolve(),
        lookup: () => Promise.reject(new Error("the store is down")),
      };
      const revocations = createRevocationList({ store: broken, onStoreError: "allow", onError: rejecting });
      const app = makeApp({ options: { ...hmac, isRevoked: revocations.isRevoked } });
      for (let i = 0; i < 3; i++) {
        const res = await request(app.listener).get("/").set("Authorization", `Bearer ${userToken}`);
        expect(res.status).toBe(200);
      }
    });
  });

  describe("guards accept only an auth context that requireToken made", () => {
    it.each<Guard>(["scope", "group", "user"])(
      "requireX (%s) after another middleware's req.auth answers 980, and the handler never runs",
      async (guard) => {
        const app = makeApp({ options: hmac, before: "hand-made", guard });
        const res = await request(app.listener).get("/").set("Authorization", `Bearer ${userToken}`);
        expect([res.status, res.text, app.handled]).toEqual([503, BODY_980, []]);
      },
    );

    it("a copy of requireToken's context is not one it made", async () => {
      const app = makeApp({ options: hmac, before: "spread", guard: "scope" });
      const res = await request(app.listener).get("/").set("Authorization", `Bearer ${userToken}`);
      expect([res.status, res.text, app.handled]).toEqual([503, BODY_980, []]);
    });

    it("the 980's cause says the guard ran without requireToken before it", async () => {
      const refused: TokenError[] = [];
      // requireToken lets the request through anonymously, then a hand-made context appears
      const app = makeApp({ options: hmac, before: "spread", guard: "group", onFailure: (e) => void refused.push(e) });
      await request(app.listener).get("/").set("Authorization", `Bearer ${userToken}`);
      expect((refused[0]?.cause as Error).message).toContain("without requireToken before it");
    });

    it("an anonymous request (credentialsRequired: false) still gets 401 missing_token from a guard", async () => {
      const app = makeApp({ options: { ...hmac, credentialsRequired: false }, guard: "scope" });
      const res = await request(app.listener).get("/");
      expect([res.status, res.text, app.handled]).toEqual([401, BODY_401, []]);
    });

    it("a context requireToken made passes", async () => {
      const app = makeApp({ options: hmac, guard: "scope" });
      const res = await request(app.listener).get("/").set("Authorization", `Bearer ${userToken}`);
      expect([res.status, app.handled.length]).toEqual([200, 1]);
    });
  });

  describe("credentials of another scheme, and getToken answering null", () => {
    it("credentialsRequired: false lets a request with Basic credentials through anonymously", async () => {
      const app = makeApp({ options: { ...hmac, credentialsRequired: false } });
      const res = await request(app.listener).get("/").set("Authorization", "Basic dXNlcjpwYXNz");
      expect([res.status, app.handled]).toEqual([200, [null]]);
    });

    it.each([
      ["Bearer", BODY_400],
      ["Bearer a b", BODY_400],
      ["Bearer not.a.jwt", BODY_450],
    ])("credentialsRequired: false still refuses a bad bearer value %j", async (authorization, body) => {
      const app = makeApp({ options: { ...hmac, credentialsRequired: false } });
      const res = await request(app.listener).get("/").set("Authorization", authorization);
      expect([res.status, res.text, app.handled]).toEqual([401, body, []]);
    });

    it("with credentials required, Basic credentials are refused as malformed (400)", async () => {
      const app = makeApp({ options: hmac });
      const res = await request(app.listener).get("/").set("Authorization", "Basic dXNlcjpwYXNz");
      expect([res.status, res.text]).toEqual([401, BODY_400]);
    });

    it("getToken returning null means no token: 401 missing_token, or anonymous", async () => {
      const required = makeApp({ options: { ...hmac, getToken: () => null } });
      const res = await request(required.listener).get("/");
      expect([res.status, res.text]).toEqual([401, BODY_401]);
      const optional = makeApp({ options: { ...hmac, getToken: () => null, credentialsRequired: false } });
      expect((await request(optional.listener).get("/")).status).toBe(200);
    });
  });

  it("an unreachable revocation store's 503 carries Retry-After", async () => {
    const broken: RevocationStore = {
      revokeId: () => Promise.resolve(),
      revokeSubject: () => Promise.resolve(),
      lookup: () => Promise.reject(new Error("ECONNREFUSED")),
    };
    const revocations = createRevocationList({ store: broken });
    const app = makeApp({ options: { ...hmac, isRevoked: revocations.isRevoked } });
    const res = await request(app.listener).get("/").set("Authorization", `Bearer ${userToken}`);
    expect([res.status, res.text, res.headers["retry-after"]]).toEqual([503, BODY_980, "1"]);
  });
});

describe("requireUser's default rule follows the verifier's kind", () => {
  const POOL = "sa-east-1_6ygLpRK0e";
  const ISSUER = `https://cognito-idp.sa-east-1.amazonaws.com/${POOL}`;
  let server: JwksServer;
  let key: TestKey;
  beforeAll(async () => {
    key = makeKey();
    server = await JwksServer.start([key]);
  });
  afterAll(() => server.close());

  it.each(FRAMEWORKS)("%s: a Cognito verifier goes by the user name, whatever type says", async (_name, makeApp) => {
    const options: VerifierOptions = { cognito: { userPoolId: POOL }, jwksUri: server.jwksUri, clock: fixedClock };
    const app = makeApp({ options, guard: "user" });
    const cases: [string, number, string][] = [
      [signRs256(cognitoAccessClaims(ISSUER, { type: "bot" }), key), 200, '{"ok":true}'],
      [signRs256(cognitoAccessClaims(ISSUER, { username: undefined, type: "user" }), key), 401, BODY_420],
    ];
    for (const [token, status, body] of cases) {
      const res = await request(app.listener).get("/").set("Authorization", `Bearer ${token}`);
      expect([res.status, res.text]).toEqual([status, body]);
    }
  });

  it.each(FRAMEWORKS)("%s: any other verifier goes by type", async (_name, makeApp) => {
    const app = makeApp({ options: hmac, guard: "user" });
    const cognitoShaped = signHmac(cognitoAccessClaims(ISSUER, {}));
    const bot = signHmac(roomsAccessClaims({ type: "bot", username: "looks-like-a-user" }));
    for (const token of [cognitoShaped, bot]) {
      const res = await request(app.listener).get("/").set("Authorization", `Bearer ${token}`);
      expect([res.status, res.text]).toEqual([401, BODY_420]);
    }
    const res = await request(app.listener).get("/").set("Authorization", `Bearer ${userToken}`);
    expect(res.status).toBe(200);
  });
});

describe("a good token whose kid is new, during a key-server outage, is a 503, never a 401", () => {
  const OUTAGES = ["killed", "hang", "error500"] as const;
  const SETTINGS = {
    default: {},
    // every request may try a download, until the budget of 2 is spent (then one each 30 s)
    small: { timeoutMs: 200, retryAfterFailureMs: 0, refetchesPerMinute: 2 },
  } as const;

  async function outage(server: JwksServer, kind: (typeof OUTAGES)[number]): Promise<void> {
    if (kind === "killed") await server.down();
    else server.mode = kind;
  }
  async function recover(server: JwksServer, kind: (typeof OUTAGES)[number]): Promise<void> {
    if (kind === "killed") await server.up();
    server.mode = "serve";
  }

  describe.each(OUTAGES)("key server %s", (kind) => {
    it.each(Object.keys(SETTINGS) as (keyof typeof SETTINGS)[])(
      "with %s settings: 503 with Retry-After for every request, bounded downloads, and 200 once the key server is back",
      async (settings) => {
        const known = makeKey();
        const fresh = makeKey();
        const server = await JwksServer.start([known]);
        try {
          const jwksFetch = SETTINGS[settings];
          const [[, makeApp]] = FRAMEWORKS as [[string, MakeApp]];
          const app = makeApp({
            options: { jwksUri: server.jwksUri, issuer: "Rooms-API-Internal-Access", clock: fixedClock, jwksFetch },
          });
          const listening = await listen(app.listener);
          try {
            const get = (token: string) => request(listening.url).get("/").set("Authorization", `Bearer ${token}`);
            const newKid = signRs256(roomsAccessClaims(), fresh);
            expect((await get(signRs256(roomsAccessClaims(), known))).status).toBe(200);
            await outage(server, kind);
            server.keys = [known, fresh]; // published while the server cannot be reached
            // more requests than the refetch budget (10 by default, 2 here)
            for (let i = 0; i < 14; i++) {
              const res = await get(newKid);
              expect([res.status, res.text]).toEqual([503, BODY_980]);
              expect(res.headers["retry-after"]).toMatch(/^\d+$/);
            }
            expect((await get(signRs256(roomsAccessClaims(), known))).status).toBe(200); // its key is at hand
            // downloads asked of the server: ready()'s, then at most the budget (or one a second)
            expect(server.requests).toBeLessThanOrEqual(3);
            await recover(server, kind);
            if (settings === "small") {
              // the budget is spent: no download until it refills, and meanwhile never a 401
              expect((await get(newKid)).status).toBe(503);
              return;
            }
            await eventually(async () => expect((await get(newKid)).status).toBe(200), 4000);
          } finally {
            await listening.close();
          }
        } finally {
          await server.close();
        }
      },
      20_000,
    );
  });

  it("a kid missing from a set downloaded successfully is unknown_key (401/450)", async () => {
    const known = makeKey();
    const server = await JwksServer.start([known]);
    try {
      const verifier = createVerifier({
        jwksUri: server.jwksUri,
        issuer: "Rooms-API-Internal-Access",
        clock: fixedClock,
      });
      await verifier.ready();
      const stranger = signRs256(roomsAccessClaims(), makeKey());
      for (let i = 0; i < 14; i++) {
        expect((await rejectionOf(verifier.verifyToken(stranger))).reason).toBe("unknown_key");
      }
      expect(server.requests).toBeLessThanOrEqual(11); // ready() and the budget of 10
    } finally {
      await server.close();
    }
  });
});

describe("cached verifications while stale keys serve", () => {
  let server: JwksServer;
  let key: TestKey;
  beforeEach(async () => {
    key = makeKey();
    server = await JwksServer.start([key]);
  });
  afterEach(() => server.close());
  const stale = { cacheMaxAgeMs: 100, staleIfErrorMs: 60_000, retryAfterFailureMs: 50 };

  it("keep answering from the cache during an outage, for the same key set", async () => {
    const verifier = createVerifier({ jwksUri: server.jwksUri, clock: fixedClock, jwksFetch: stale });
    const token = signRs256(roomsAccessClaims(), key);
    const first = await verifier.verifyToken(token);
    await server.down();
    await sleep(150); // past the set's age: it serves stale
    for (let i = 0; i < 5; i++) {
      // the very claims object the cache holds: a hit, not a verification made again
      expect((await verifier.verifyToken(token)).claims).toBe(first.claims);
    }
  });

  it("hits alone lead to the set being read again, and a changed set ends them", async () => {
    const verifier = createVerifier({ jwksUri: server.jwksUri, clock: fixedClock, jwksFetch: stale });
    const token = signRs256(roomsAccessClaims(), key);
    await verifier.verifyToken(token);
    const before = server.requests;
    server.keys = [makeKey()]; // the key is withdrawn
    await sleep(150);
    await eventually(async () => {
      await verifier.verifyToken(token).catch(() => undefined);
      expect(server.requests).toBeGreaterThan(before);
    });
    expect((await rejectionOf(verifier.verifyToken(token))).reason).toBe("unknown_key");
  });
});

describe("a key-set download's causes and deadline", () => {
  it.each([
    ["killed", /ECONNREFUSED/],
    ["error500", /answered HTTP 500/],
  ] as const)("every 503 of a key server %s chains the download's own error", async (kind, root) => {
    const server = await JwksServer.start();
    const verifier = createVerifier({
      jwksUri: server.jwksUri,
      clock: fixedClock,
      jwksFetch: { retryAfterFailureMs: 100 },
    });
    if (kind === "killed") await server.down();
    else server.mode = kind;
    const token = signRs256(roomsAccessClaims(), makeKey());
    try {
      for (const wait of [0, 0, 0, 150, 0]) {
        await sleep(wait);
        const refusal = await rejectionOf(verifier.verifyToken(token));
        expect(refusal.reason).toBe("keys_unavailable");
        const chain: string[] = [];
        // read by shape: Node's own errors come from outside the test's realm
        for (
          let cause: unknown = refusal.cause;
          typeof cause === "object" && cause !== null;
          cause = (cause as Error).cause
        ) {
          chain.push(`${(cause as Error).message} ${String((cause as { code?: unknown }).code)}`);
        }
        expect(chain.join(" | ")).toMatch(root);
      }
    } finally {
      await server.close();
    }
  });

  // a slow issuer: no OpenID configuration (404), RFC 8414 metadata, then the key set, each 250 ms
  it("keeps discovery and the key set to one timeoutMs overall", async () => {
    const key = makeKey();
    let issuer = "";
    const slow = (res: ServerResponse, status: number, body: unknown): void =>
      void setTimeout(
        () => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body)),
        250,
      );
    const server: Listening = await listen((req, res) => {
      if (req.url === "/.well-known/openid-configuration") return slow(res, 404, {});
      if (req.url === "/.well-known/oauth-authorization-server") {
        return slow(res, 200, { issuer, jwks_uri: `${issuer}/jwks` });
      }
      slow(res, 200, { keys: [key.jwk] });
    });
    issuer = server.url;
    try {
      const tight = createVerifier({ issuerUrl: issuer, jwksFetch: { timeoutMs: 500 } });
      const error = (await tight.ready().catch((rejected: unknown) => rejected)) as KeySetError;
      expect(error).toBeInstanceOf(KeySetError);
      expect(error.message).toContain("within 500 ms");
      // with room for all three, the same issuer works
      await expect(
        createVerifier({ issuerUrl: issuer, jwksFetch: { timeoutMs: 2000 } }).ready(),
      ).resolves.toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it("refuses a discovered plain-http jwks_uri off this machine: ready() names it, requests answer 503", async () => {
    const keys = await JwksServer.start();
    let issuer = "";
    // 0.0.0.0 reaches this machine's own server, but is no loopback name: never trusted over http
    const offLoopback = keys.jwksUri.replace("127.0.0.1", "0.0.0.0");
    const server = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ issuer, jwks_uri: offLoopback }));
    });
    issuer = server.url;
    try {
      const verifier = createVerifier({ issuerUrl: issuer, clock: fixedClock });
      const error = (await verifier.ready().catch((rejected: unknown) => rejected)) as KeySetError;
      expect(error).toBeInstanceOf(KeySetError);
      expect(error.message).toContain(`jwks_uri ${offLoopback} is plain http`);
      const [firstKey] = keys.keys as [TestKey];
      const refusal = await rejectionOf(verifier.verifyToken(signRs256(roomsAccessClaims({ iss: issuer }), firstKey)));
      expect([refusal.reason, refusal.status]).toEqual(["keys_unavailable", 503]);
      expect(keys.requests).toBe(0);
    } finally {
      await server.close();
      await keys.close();
    }
  });
});
