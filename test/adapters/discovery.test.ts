import type { ServerResponse } from "node:http";
import request from "supertest";
import { ConfigError, createVerifier, KeySetError, type AuthContext, type VerifierOptions } from "bearer-gate";
import { BODY_450, BODY_980 } from "../fixtures/catalogue.js";
import { listen, type Listening } from "../fixtures/http.js";
import { JwksServer, makeKey, type TestKey } from "../fixtures/jwks-server.js";
import { startProvider, type Provider } from "../fixtures/provider.js";
import { cognitoAccessClaims, signRs256 } from "../fixtures/tokens.js";
import { eventually, thrownBy } from "../helpers.js";
import { FRAMEWORKS } from "./frameworks.js";

// issuerUrl: the key set found from the issuer's discovery document. Against a real OpenID
// provider (oidc-provider, in a process of its own on 127.0.0.1) and hand-made servers.
const route = { scope: "orders:read", answer: (auth: AuthContext) => ({ sub: auth.claims.sub, iss: auth.claims.iss }) };

describe("issuerUrl against a real OpenID provider (oidc-provider)", () => {
  let provider: Provider;
  beforeAll(async () => {
    provider = await startProvider();
  }, 30_000);
  afterAll(() => provider.stop());

  it.each(FRAMEWORKS)(
    "%s: ready() finds the keys; its access tokens pass, and the issuer is the one allowed",
    async (_name, makeGate) => {
      const gate = makeGate({ issuerUrl: provider.issuer, audience: provider.resource }, route);
      await gate.ready();
      const token = await provider.token();
      const res = await request(gate.app).get("/orders").set("Authorization", `Bearer ${token}`);
      expect([res.status, res.body]).toEqual([200, { sub: "orders-worker", iss: provider.issuer }]);
    },
  );

  it("refuses its token for another audience, and a token of another issuer signed by its keys is never seen", async () => {
    const verifier = createVerifier({ issuerUrl: provider.issuer, audience: "api://billing" });
    await expect(verifier.verify(`Bearer ${await provider.token()}`)).rejects.toMatchObject({
      reason: "wrong_audience",
    });
  });
});

/** A hand-made issuer: serves what the test puts in `documents`, by path. */
interface Issuer {
  readonly server: Listening;
  readonly documents: Map<string, unknown>;
  redirect: boolean;
}

async function startIssuer(): Promise<Issuer> {
  const documents = new Map<string, unknown>();
  const issuer: { server?: Listening; documents: Map<string, unknown>; redirect: boolean } = {
    documents,
    redirect: false,
  };
  issuer.server = await listen((req, res: ServerResponse) => {
    const document = documents.get(req.url ?? "");
    if (issuer.redirect) return void res.writeHead(302, { location: req.url }).end();
    if (document === undefined) return void res.writeHead(404).end("not found");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(document));
  });
  return issuer as Issuer;
}

describe("issuerUrl against hand-made discovery documents", () => {
  let keys: JwksServer;
  let key: TestKey;
  let issuer: Issuer;
  beforeAll(async () => {
    key = makeKey();
    keys = await JwksServer.start([key]);
    issuer = await startIssuer();
  });
  afterAll(async () => {
    await keys.close();
    await issuer.server.close();
  });
  beforeEach(() => {
    issuer.documents.clear();
    issuer.redirect = false;
  });

  const now = (): number => Math.floor(Date.now() / 1000);
  const tokenOf = (iss: string, signer: TestKey = key): string =>
    `Bearer ${signRs256(cognitoAccessClaims(iss, { scope: "orders:read" }, now()), signer)}`;

  it("works with Cognito's own discovery document (an issuer with a path)", async () => {
    const iss = `${issuer.server.url}/us-east-1_Example1`;
    issuer.documents.set("/us-east-1_Example1/.well-known/openid-configuration", {
      issuer: iss,
      jwks_uri: keys.jwksUri,
    });
    for (const [, makeGate] of FRAMEWORKS) {
      const gate = makeGate({ issuerUrl: iss }, route);
      await gate.ready();
      const res = await request(gate.app).get("/orders").set("Authorization", tokenOf(iss));
      expect([res.status, res.body]).toEqual([200, { sub: "2f190942-c269-4124-93d7-5a7fa90144c9", iss }]);
    }
  });

  it("falls back to RFC 8414's /.well-known/oauth-authorization-server, inserted before the issuer's path", async () => {
    const iss = `${issuer.server.url}/tenant-a`;
    issuer.documents.set("/.well-known/oauth-authorization-server/tenant-a", { issuer: iss, jwks_uri: keys.jwksUri });
    const verifier = createVerifier({ issuerUrl: iss });
    await verifier.ready();
    await expect(verifier.verify(tokenOf(iss))).resolves.toHaveProperty("claims.iss", iss);
  });

  it("never accepts a token when the document names another issuer: ready() says so, requests answer 503", async () => {
    const iss = `${issuer.server.url}/tenant-b`;
    const other = `${issuer.server.url}/tenant-evil`;
    issuer.documents.set("/tenant-b/.well-known/openid-configuration", { issuer: other, jwks_uri: keys.jwksUri });
    for (const [, makeGate] of FRAMEWORKS) {
      const gate = makeGate({ issuerUrl: iss, jwksFetch: { retryAfterFailureMs: 0 } }, route);
      const error = await gate.ready().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeySetError);
      expect((error as Error).message).toContain(`names the issuer "${other}", not "${iss}"`);
      for (const token of [tokenOf(iss), tokenOf(other)]) {
        const res = await request(gate.app).get("/orders").set("Authorization", token);
        expect([res.status, res.text]).toEqual([503, BODY_980]);
      }
    }
  });

  it("follows no redirect from the discovery document, and refuses a jwks_uri that is not http(s)", async () => {
    const iss = `${issuer.server.url}/tenant-c`;
    issuer.documents.set("/tenant-c/.well-known/openid-configuration", { issuer: iss, jwks_uri: keys.jwksUri });
    issuer.redirect = true;
    await expect(createVerifier({ issuerUrl: iss }).ready()).rejects.toThrow("answered HTTP 302");
    issuer.redirect = false;
    issuer.documents.set("/tenant-c/.well-known/openid-configuration", { issuer: iss, jwks_uri: "file:///etc/passwd" });
    await expect(createVerifier({ issuerUrl: iss }).ready()).rejects.toThrow("is not an http(s) URL");
  });

  it("reads the document again with every download of the key set, so a moved jwks_uri is followed", async () => {
    const iss = `${issuer.server.url}/tenant-d`;
    const path = "/tenant-d/.well-known/openid-configuration";
    issuer.documents.set(path, { issuer: iss, jwks_uri: keys.jwksUri });
    // no refetch for an unknown kid: only the key set's own schedule (its age) reads the document again
    const verifier = createVerifier({ issuerUrl: iss, jwksFetch: { cacheMaxAgeMs: 50, refetchesPerMinute: 0 } });
    await verifier.ready();
    const newKey = makeKey();
    const moved = await JwksServer.start([newKey]);
    try {
      issuer.documents.set(path, { issuer: iss, jwks_uri: moved.jwksUri });
      await eventually(async () => {
        await expect(verifier.verify(tokenOf(iss, newKey))).resolves.toHaveProperty("claims.iss", iss);
      });
      expect(moved.requests).toBeGreaterThan(0);
    } finally {
      await moved.close();
    }
  });

  it("answers 450 for a token of another issuer, with the document's keys", async () => {
    const iss = `${issuer.server.url}/tenant-e`;
    issuer.documents.set("/tenant-e/.well-known/openid-configuration", { issuer: iss, jwks_uri: keys.jwksUri });
    const gate = FRAMEWORKS[0]![1]({ issuerUrl: iss }, route);
    const res = await request(gate.app)
      .get("/orders")
      .set("Authorization", tokenOf(`${iss}-other`));
    expect([res.status, res.text]).toEqual([401, BODY_450]);
  });

  it.each([
    ["issuerUrl with jwksUri", { issuerUrl: "https://auth.example.com/", jwksUri: "https://auth.example.com/jwks" }],
    ["issuerUrl with issuer", { issuerUrl: "https://auth.example.com/", issuer: "https://auth.example.com/" }],
    ["issuerUrl with a query", { issuerUrl: "https://auth.example.com/?tenant=a" }],
    ["issuerUrl that is not a URL", { issuerUrl: "auth.example.com" }],
  ])("%s is a ConfigError", (_case, options) => {
    expect(thrownBy(() => createVerifier(options as VerifierOptions))).toBeInstanceOf(ConfigError);
  });
});
