import { randomUUID } from "node:crypto";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import request from "supertest";
import { ConfigError, createVerifier, type IssuerOptions, type VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { createTestOidcIssuer, type TestOidcIssuer } from "bearer-gate/testing";
import { BODY_450 } from "../fixtures/catalogue.js";
import { startProvider, type Provider } from "../fixtures/provider.js";
import { rejectionOf, thrownBy } from "../helpers.js";

// Several issuers, any provider: two real OpenID providers (oidc-provider, each in a process of its
// own) and the testing kit's hand-made one, all on 127.0.0.1.
let first: Provider;
let second: Provider;
let handMade: TestOidcIssuer;

beforeAll(async () => {
  [first, second, handMade] = await Promise.all([
    startProvider(),
    startProvider(),
    createTestOidcIssuer({ audience: "api://orders", path: "/tenant-a/v2.0" }),
  ]);
}, 30_000);

afterAll(async () => {
  await Promise.all([first.stop(), second.stop(), handMade.close()]);
});

const apps: [string, (options: VerifierOptions) => Parameters<typeof request>[0]][] = [
  [
    "Express 5",
    (options) =>
      express()
        .use(expressGate.requireToken(options))
        .get("/", (req, res) => res.json({ issuer: req.auth.issuer, client: req.auth.clientId })),
  ],
  [
    "Express 4",
    (options) =>
      express4()
        .use(expressGate.requireToken(options))
        .get("/", (req, res) => res.json({ issuer: req.auth.issuer, client: req.auth.clientId })),
  ],
  ["Koa 3", (options) => koaApp(Koa, options)],
  ["Koa 2", (options) => koaApp(Koa2, options)],
];

function koaApp(Framework: typeof Koa, options: VerifierOptions) {
  const app = new Framework();
  app.use(koaGate.requireToken(options));
  app.use((ctx) => {
    ctx.body = { issuer: ctx.state.auth.issuer, client: ctx.state.auth.clientId };
  });
  return app.callback();
}

describe.each(apps)("issuers: [...] on %s", (_name, makeApp) => {
  const options = (): VerifierOptions => ({
    audience: "api://orders",
    issuers: [{ issuerUrl: first.issuer }, { issuerUrl: second.issuer }, { issuerUrl: handMade.url }],
  });
  const call = (app: Parameters<typeof request>[0], token: string) =>
    request(app).get("/").set("Authorization", `Bearer ${token}`);

  it("takes each issuer's tokens, and says which issuer verified them", async () => {
    const app = makeApp(options());
    for (const [issuer, token] of [
      [first.issuer, await first.token()],
      [second.issuer, await second.token()],
      [handMade.url, handMade.accessToken()],
    ] as const) {
      const res = await call(app, token);
      expect([res.status, res.body]).toEqual([200, { issuer, client: expect.any(String) as unknown }]);
    }
  });

  it("verifies a token only with its own issuer's keys: another's key under its iss is refused", async () => {
    // the hand-made issuer signs a token that names the first provider as its issuer
    const forged = handMade.accessToken({ iss: first.issuer });
    const res = await call(makeApp(options()), forged);
    expect([res.status, res.text]).toEqual([401, BODY_450]);
  });

  it("refuses an issuer not on the list without a download", async () => {
    const stranger = await createTestOidcIssuer({ audience: "api://orders" });
    try {
      const res = await call(makeApp(options()), stranger.accessToken());
      expect([res.status, res.text]).toEqual([401, BODY_450]);
      expect(stranger.requests).toBe(0);
    } finally {
      await stranger.close();
    }
  });
});

describe("issuers: per-entry rules", () => {
  it("checks each entry's audience, the verifier's when it has none", async () => {
    const verifier = createVerifier({
      audience: "api://orders",
      issuers: [{ issuerUrl: handMade.url, audience: "api://tenant-a" }, { issuerUrl: first.issuer }],
    });
    expect((await rejectionOf(verifier.verify(`Bearer ${handMade.accessToken()}`))).reason).toBe("wrong_audience");
    const auth = await verifier.verify(`Bearer ${handMade.accessToken({ aud: "api://tenant-a" })}`);
    expect(auth.issuer).toBe(handMade.url);
    expect((await verifier.verify(`Bearer ${await first.token()}`)).issuer).toBe(first.issuer);
  });

  it("takes { issuer, jwksUri } with no discovery", async () => {
    const verifier = createVerifier({
      audience: "api://orders",
      issuers: [{ issuer: handMade.url, jwksUri: handMade.jwksUri }],
    });
    expect((await verifier.verify(`Bearer ${handMade.accessToken()}`)).issuer).toBe(handMade.url);
  });

  it("reports every issuer's key set in status(), and ready() waits for each", async () => {
    const verifier = createVerifier({
      audience: "api://orders",
      issuers: [{ issuerUrl: first.issuer }, { issuerUrl: handMade.url }],
    });
    await verifier.ready();
    const { ready, keySets } = verifier.status();
    expect([ready, keySets.length]).toEqual([true, 2]);
  });

  it.each<[string, VerifierOptions, RegExp]>([
    ["an empty list", { issuers: [] }, /non-empty list/],
    ["an entry with neither", { issuers: [{ audience: "x" }] }, /\{ issuerUrl \}`, or `\{ issuer, jwksUri \}/],
    [
      "issuerUrl with jwksUri",
      { issuers: [{ issuerUrl: "https://a.example", jwksUri: "https://a.example/k" }] },
      /leave out/,
    ],
    ["a plain-http issuer off this machine", { issuers: [{ issuerUrl: "http://a.example" }] }, /plain http/],
    [
      "one issuer twice",
      { issuers: [{ issuerUrl: "https://a.example" }, { issuerUrl: "https://a.example" }] },
      /twice/,
    ],
    [
      "issuers with jwksUri",
      { issuers: [{ issuerUrl: "https://a.example" }], jwksUri: "https://b.example/k" },
      /one key source/,
    ],
    ["issuers with issuer", { issuers: [{ issuerUrl: "https://a.example" }], issuer: "x" }, /leave out `issuer`/],
    [
      "maxIssuers alone",
      { secret: "a-test-secret-of-at-least-32-bytes!!", maxIssuers: 5 },
      /goes with `resolveIssuer`/,
    ],
    [
      "an unknown entry option",
      { issuers: [{ issuerURL: "https://a.example" } as IssuerOptions] },
      /did you mean `issuerUrl`/,
    ],
  ])("refuses %s at construction", (_case, options, message) => {
    const error = thrownBy(() => createVerifier(options));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});

describe("resolveIssuer: issuers decided per request", () => {
  it("resolves a tenant's issuer once, then keeps its key set; refuses what it does not know without a download", async () => {
    const asked: string[] = [];
    const tenants = new Map([[handMade.url, { issuerUrl: handMade.url }]]);
    const verifier = createVerifier({
      audience: "api://orders",
      resolveIssuer: (iss) => (asked.push(iss), Promise.resolve(tenants.get(iss))),
    });
    const results = await Promise.all([1, 2, 3].map(() => verifier.verify(`Bearer ${handMade.accessToken()}`)));
    expect(results.map((auth) => auth.issuer)).toEqual([handMade.url, handMade.url, handMade.url]);
    await verifier.verify(`Bearer ${handMade.accessToken()}`);
    expect(asked).toEqual([handMade.url]); // one call for three requests at once, none after
    const stranger = await createTestOidcIssuer({ audience: "api://orders" });
    try {
      expect((await rejectionOf(verifier.verify(`Bearer ${stranger.accessToken()}`))).reason).toBe("wrong_issuer");
      expect(stranger.requests).toBe(0);
    } finally {
      await stranger.close();
    }
  });

  it("answers 980 when resolveIssuer throws or names another issuer's entry: never a pass", async () => {
    const throwing = createVerifier({
      audience: "api://orders",
      resolveIssuer: () => {
        throw new Error("tenant database down");
      },
    });
    expect((await rejectionOf(throwing.verify(`Bearer ${handMade.accessToken()}`))).status).toBe(503);
    // what it answers gets every check a configured issuer gets: https off this machine
    const insecure = createVerifier({ audience: "api://orders", resolveIssuer: (iss) => ({ issuerUrl: iss }) });
    const plain = await rejectionOf(
      insecure.verify(`Bearer ${handMade.accessToken({ iss: "http://tenant.example" })}`),
    );
    expect([plain.reason, String(plain.cause)]).toEqual(["internal_error", expect.stringContaining("plain http")]);
    const lying = createVerifier({ audience: "api://orders", resolveIssuer: () => ({ issuerUrl: first.issuer }) });
    const error = await rejectionOf(lying.verify(`Bearer ${handMade.accessToken()}`));
    expect([error.reason, String(error.cause)]).toEqual(["internal_error", expect.stringContaining("another issuer")]);
  });

  it("survives a flood of tokens naming random issuers: no download, bounded memory, resolveIssuer asked each time", async () => {
    let asked = 0;
    const verifier = createVerifier({
      audience: "api://orders",
      maxIssuers: 2,
      resolveIssuer: (iss) => {
        asked++;
        return iss === handMade.url ? { issuerUrl: handMade.url } : undefined;
      },
    });
    const before = handMade.requests;
    const flood = Array.from({ length: 2000 }, () => handMade.accessToken({ iss: `https://${randomUUID()}.example/` }));
    const reasons = await Promise.all(
      flood.map(async (token) => (await rejectionOf(verifier.verify(`Bearer ${token}`))).reason),
    );
    expect(new Set(reasons)).toEqual(new Set(["wrong_issuer"]));
    expect([asked, handMade.requests - before, verifier.status().keySets.length]).toEqual([2000, 0, 0]);
  });

  it("keeps at most maxIssuers key sets, the least recently used dropped (and downloaded again when it returns)", async () => {
    const issuers = await Promise.all([1, 2, 3].map(() => createTestOidcIssuer({ audience: "api://orders" })));
    try {
      const verifier = createVerifier({
        audience: "api://orders",
        maxIssuers: 2,
        resolveIssuer: (iss) => ({ issuerUrl: iss }),
      });
      for (const issuer of [...issuers, issuers[0]]) await verifier.verify(`Bearer ${issuer?.accessToken() ?? ""}`);
      expect(verifier.status().keySets.length).toBe(2);
      // the first issuer was dropped for the third, then asked for again: discovery and keys twice
      expect(issuers.map((issuer) => issuer.requests)).toEqual([4, 2, 2]);
    } finally {
      await Promise.all(issuers.map((issuer) => issuer.close()));
    }
  });
});
