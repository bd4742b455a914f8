import express from "express";
import Koa from "koa";
import request from "supertest";
import { createVerifier } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { createTestIssuer, createTestOidcIssuer, type TestOidcIssuer } from "bearer-gate/testing";
import { BODY_420, BODY_450 } from "../fixtures/catalogue.js";
import { rejectionOf } from "../helpers.js";

const decode = (segment: string | undefined): Record<string, unknown> =>
  JSON.parse(Buffer.from(segment ?? "", "base64url").toString()) as Record<string, unknown>;

// The testing kit's OpenID provider: an app configured with issuerUrl is tested through discovery,
// as it runs in production.
describe("createTestOidcIssuer", () => {
  let issuer: TestOidcIssuer;
  afterEach(() => issuer.close());

  it("serves discovery and keys under its issuer URL, and mints RFC 9068 tokens its options accept", async () => {
    issuer = await createTestOidcIssuer({ audience: "api://orders", path: "/realms/shop" });
    expect(issuer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/realms\/shop$/);
    const discovery = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as object;
    expect(discovery).toMatchObject({ issuer: issuer.url, jwks_uri: issuer.jwksUri });
    const verifier = createVerifier({ ...issuer.options(), profile: "rfc9068" });
    const token = issuer.accessToken({ sub: "u1", scope: "orders:read" });
    const auth = await verifier.verifyToken(token);
    expect([auth.claims.iss, auth.claims.aud, auth.clientId, auth.scopes]).toEqual([
      issuer.url,
      "api://orders",
      "bearer-gate-test-client",
      ["orders:read"],
    ]);
    const [header] = token.split(".");
    expect(decode(header)).toMatchObject({ typ: "at+jwt", alg: "RS256" });
    // this test's own look at the document, then the verifier's: the document and the key set, once each
    expect(issuer.requests).toBe(3);
  });

  it.each(["Express", "Koa"])(
    "protects a %s app through issuerUrl, a machine's token refused by requireUser",
    async (framework) => {
      issuer = await createTestOidcIssuer({ algorithm: "ES256" });
      const isUser = (claims: { sub?: unknown; client_id?: unknown }) => claims.sub !== claims.client_id;
      let app: Parameters<typeof request>[0];
      if (framework === "Express") {
        app = express()
          .use(expressGate.requireToken(issuer.options()))
          .use(expressGate.requireUser(isUser))
          .get("/", (req, res) => res.json({ sub: req.auth.claims.sub }));
      } else {
        const koa = new Koa();
        koa.use(koaGate.requireToken(issuer.options()));
        koa.use(koaGate.requireUser(isUser));
        koa.use((ctx) => {
          ctx.body = { sub: ctx.state.auth.claims.sub };
        });
        app = koa.callback();
      }
      const user = await request(app)
        .get("/")
        .set("Authorization", `Bearer ${issuer.accessToken({ sub: "u9" })}`);
      expect([user.status, user.body]).toEqual([200, { sub: "u9" }]);
      const machine = await request(app).get("/").set("Authorization", `Bearer ${issuer.machineToken()}`);
      expect([machine.status, machine.text]).toEqual([401, BODY_420]);
      const expired = await request(app)
        .get("/")
        .set("Authorization", `Bearer ${issuer.accessToken({ expiresIn: -5 })}`);
      expect([expired.status, expired.text]).toEqual([401, BODY_450]);
    },
  );

  it("rotates its key, and another issuer's token is refused", async () => {
    issuer = await createTestOidcIssuer({ algorithm: "EdDSA" });
    const other = await createTestOidcIssuer({ algorithm: "EdDSA" });
    try {
      const verifier = createVerifier(issuer.options());
      const before = issuer.accessToken();
      await verifier.verifyToken(before);
      await issuer.rotate();
      await verifier.verifyToken(issuer.accessToken());
      await verifier.verifyToken(before); // the old key is still served until retire()
      // another issuer's key is none of this one's: refused, whatever its claims say
      expect((await rejectionOf(verifier.verifyToken(other.accessToken()))).reason).toBe("unknown_key");
    } finally {
      await other.close();
    }
  });
});

describe("createTestIssuer().machineToken()", () => {
  it("is a Cognito client-credentials token: no username, sub the client, refused by requireUser", async () => {
    const issuer = await createTestIssuer({ clientId: "worker" });
    try {
      const token = issuer.machineToken();
      const claims = decode(token.split(".")[1]);
      expect([claims["sub"], claims["client_id"], claims["scope"], "username" in claims]).toEqual([
        "worker",
        "worker",
        "orders/read",
        false,
      ]);
      const app = express()
        .use(expressGate.requireToken(issuer.cognitoOptions()))
        .use(expressGate.requireUser())
        .get("/", (_req, res) => res.json({}));
      const res = await request(app).get("/").set("Authorization", `Bearer ${token}`);
      expect([res.status, res.text]).toEqual([401, BODY_420]);
      const user = await request(app).get("/").set("Authorization", `Bearer ${issuer.accessToken()}`);
      expect(user.status).toBe(200);
    } finally {
      await issuer.close();
    }
  });
});
