import express from "express";
import Koa from "koa";
import request from "supertest";
import { createVerifier } from "bearer-gate";
import { requireToken as expressGate } from "bearer-gate/express";
import { requireToken as koaGate } from "bearer-gate/koa";
import { createTestIssuer, hmacTokens, type TestIssuer } from "bearer-gate/testing";
import { eventually, rejectionOf } from "../helpers.js";

const decode = (token: string): [Record<string, unknown>, Record<string, unknown>] =>
  token
    .split(".")
    .slice(0, 2)
    .map((part): unknown => JSON.parse(Buffer.from(part, "base64url").toString())) as [
    Record<string, unknown>,
    Record<string, unknown>,
  ];

describe("createTestIssuer", () => {
  let issuer: TestIssuer;
  beforeEach(async () => {
    issuer = await createTestIssuer({ clientId: "web" });
  });
  afterEach(() => issuer.close());

  it("mints Cognito-shaped access tokens that its own options accept", async () => {
    const verifier = createVerifier(issuer.cognitoOptions());
    const token = issuer.accessToken({ scope: "posts users", sub: "u1" });
    const auth = await verifier.verifyToken(token);
    expect(auth.scopes).toEqual(["posts", "users"]);
    expect(auth.expiresIn).toBeGreaterThan(3590);
    const [header, claims] = decode(token);
    expect(Object.keys(header).sort()).toEqual(["alg", "kid"]);
    // every claim the seed's Cognito access token carries
    expect(Object.keys(claims).sort()).toEqual(
      [
        "auth_time",
        "client_id",
        "event_id",
        "exp",
        "iat",
        "iss",
        "jti",
        "origin_jti",
        "scope",
        "sub",
        "token_use",
        "username",
      ].sort(),
    );
    expect(claims).toMatchObject({ iss: issuer.issuer, client_id: "web", token_use: "access", sub: "u1" });
    expect(issuer.issuer).toBe("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_BearerGate");
  });

  it("mints expired tokens and ID tokens on request", async () => {
    const verifier = createVerifier(issuer.cognitoOptions());
    expect(await rejectionOf(verifier.verifyToken(issuer.accessToken({ expiresIn: -60 })))).toMatchObject({
      reason: "expired",
    });
    const idToken = issuer.idToken();
    expect(decode(idToken)[1]).toMatchObject({ aud: "web", token_use: "id", "cognito:username": "test-user" });
    expect(await rejectionOf(verifier.verifyToken(idToken))).toMatchObject({ reason: "wrong_token_use" });
    const ids = createVerifier(issuer.cognitoOptions({ tokenUse: "id" }));
    await expect(ids.verifyToken(issuer.idToken({ aud: "web" }))).resolves.toBeDefined();
  });

  it("cognitoOptions never changes the client the issuer mints for: a token minted first is accepted", async () => {
    const first = issuer.accessToken(); // before any options exist, as in a test file's first lines
    const others = issuer.cognitoOptions({ clientId: ["ios", "android"] });
    expect(issuer.clientId).toBe("web");
    expect(others.cognito.clientId).toEqual(["ios", "android"]);
    expect(decode(issuer.accessToken())[1]["client_id"]).toBe("web");
    await expect(createVerifier(issuer.cognitoOptions()).verifyToken(first)).resolves.toBeDefined();
    expect(await rejectionOf(createVerifier(others).verifyToken(first))).toMatchObject({ reason: "wrong_audience" });
    // a token may name another client
    const ios = issuer.accessToken({ clientId: "ios" });
    expect(decode(ios)[1]["client_id"]).toBe("ios");
    expect(decode(issuer.idToken({ clientId: "ios" }))[1]["aud"]).toBe("ios");
    await expect(createVerifier(others).verifyToken(ios)).resolves.toBeDefined();
  });

  it("takes options given as undefined, as exactOptionalPropertyTypes code passes them from the environment", async () => {
    const unset: string | undefined = undefined;
    const defaults = await createTestIssuer({ clientId: unset, userPoolId: unset });
    try {
      expect([defaults.clientId, defaults.userPoolId]).toEqual(["bearer-gate-test-client", "us-east-1_BearerGate"]);
      const options = defaults.cognitoOptions({ clientId: unset, tokenUse: undefined });
      expect(options.cognito.clientId).toBe("bearer-gate-test-client");
      await expect(
        createVerifier(options).verifyToken(defaults.accessToken({ expiresIn: unset })),
      ).resolves.toBeDefined();
    } finally {
      await defaults.close();
    }
  });

  it("rotates to a new key while still serving the old one until retired", async () => {
    const options = { ...issuer.cognitoOptions(), tokenCache: false as const, jwksFetch: { cacheMaxAgeMs: 0 } };
    const verifier = createVerifier(options);
    const before = issuer.accessToken();
    const kid = await issuer.rotate();
    const after = issuer.accessToken();
    expect(decode(after)[0]["kid"]).toBe(kid);
    await expect(verifier.verifyToken(before)).resolves.toBeDefined();
    await expect(verifier.verifyToken(after)).resolves.toBeDefined();
    issuer.retire();
    // the set past its age (0 ms) serves while its refresh runs; then the retired key is gone
    await eventually(async () =>
      expect(await rejectionOf(verifier.verifyToken(before))).toMatchObject({ reason: "unknown_key" }),
    );
    await expect(verifier.verifyToken(after)).resolves.toBeDefined();
  });

  it("closes its server, after which its keys cannot be had (503)", async () => {
    const verifier = createVerifier(issuer.cognitoOptions());
    await issuer.close();
    expect(await rejectionOf(verifier.verifyToken(issuer.accessToken()))).toMatchObject({
      reason: "keys_unavailable",
      code: 980,
    });
    await issuer.close(); // twice is fine
  });
});

describe("hmacTokens", () => {
  const tokens = hmacTokens("a-test-secret-of-at-least-32-bytes!!");

  it("mints access tokens shaped like the API's own, which its options accept", async () => {
    const token = tokens.access({ scope: "users,posts" });
    const [header, claims] = decode(token);
    expect(Object.keys(header).sort()).toEqual(["alg", "jti", "typ"]);
    expect(Object.keys(claims).sort()).toEqual([
      "atid",
      "aud",
      "exp",
      "iat",
      "iss",
      "jti",
      "lid",
      "scope",
      "token_type",
      "type",
      "uid",
    ]);
    const auth = await createVerifier(tokens.options()).verifyToken(token);
    expect([auth.scopes, auth.claims["token_type"]]).toEqual([["users", "posts"], "access"]);
  });

  it("mints refresh tokens (no exp) that are never accepted as access tokens", async () => {
    const refresh = tokens.refresh();
    expect(decode(refresh)[1]).toMatchObject({ iss: "Rooms-API-Internal-Refresh", token_type: "refresh" });
    expect(decode(refresh)[1]).not.toHaveProperty("exp");
    const verifier = createVerifier({
      ...tokens.options(),
      issuer: ["Rooms-API-Internal-Access", "Rooms-API-Internal-Refresh"],
    });
    expect(await rejectionOf(verifier.verifyToken(tokens.refresh({ expiresIn: 60 })))).toMatchObject({
      reason: "wrong_token_use",
    });
  });
});

describe("createTestIssuer({ algorithm })", () => {
  it.each(["ES256", "ES384", "ES512", "PS256", "RS512", "EdDSA"] as const)(
    "mints %s tokens its options accept, over HTTP on Express and Koa, through a rotation",
    async (algorithm) => {
      const issuer = await createTestIssuer({ algorithm });
      try {
        expect(issuer.algorithm).toBe(algorithm);
        const app = express().use(expressGate(issuer.cognitoOptions()));
        app.get("/", (req, res) => res.json({ sub: req.auth.claims.sub }));
        const koa = new Koa().use(koaGate(issuer.cognitoOptions())).use((ctx) => {
          ctx.body = { sub: ctx.state.auth.claims.sub };
        });
        for (const listener of [app, koa.callback()]) {
          const first = issuer.accessToken();
          expect(decode(first)[0]).toMatchObject({ alg: algorithm });
          expect((await request(listener).get("/").set("Authorization", `Bearer ${first}`)).status).toBe(200);
        }
        await issuer.rotate();
        const rotated = issuer.accessToken();
        expect((await request(app).get("/").set("Authorization", `Bearer ${rotated}`)).status).toBe(200);
      } finally {
        await issuer.close();
      }
    },
  );

  it("refuses an algorithm it cannot sign with", async () => {
    await expect(createTestIssuer({ algorithm: "HS256" as "RS256" })).rejects.toThrow("cannot sign with");
  });
});
