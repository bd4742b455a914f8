import type { RequestListener } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import * as oauth from "oauth4webapi";
import request from "supertest";
import { ConfigError, createVerifier, type AuthContext, type VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { BODY_401, BODY_450 } from "../fixtures/catalogue.js";
import { listen, type Listening } from "../fixtures/http.js";
import { fixedClock, HMAC_SECRET, NOW, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";
import { thrownBy } from "../helpers.js";

// `resource` (RFC 8707), its metadata document (RFC 9728) and the challenges that lead a client
// to it, over real HTTP on Express 5 and 4 and Koa 3 and 2; read by a real RFC 9728 client
// (oauth4webapi).

const AS = "https://auth.example.com";
const base = { secret: HMAC_SECRET, issuer: AS, clock: fixedClock };

interface App {
  readonly listener: RequestListener;
  readonly seen: AuthContext[];
}
type MakeApp = (options: VerifierOptions, guardScope?: string) => App;

function expressApp(factory: typeof express): MakeApp {
  return (options, guardScope) => {
    const app = factory();
    const seen: AuthContext[] = [];
    const gate = expressGate.requireToken(options);
    app.use(expressGate.protectedResourceMetadata(gate));
    app.use(gate);
    if (guardScope !== undefined) app.use(expressGate.requireScope(guardScope));
    app.use((req, res) => {
      seen.push(req.auth);
      res.json({ clientId: req.auth.clientId, resource: req.auth.resource });
    });
    return { listener: app, seen };
  };
}

function koaApp(Framework: typeof Koa): MakeApp {
  return (options, guardScope) => {
    const app = new Framework();
    const seen: AuthContext[] = [];
    const gate = koaGate.requireToken(options);
    app.use(koaGate.protectedResourceMetadata(gate));
    app.use(gate);
    if (guardScope !== undefined) app.use(koaGate.requireScope(guardScope));
    app.use((ctx) => {
      seen.push(ctx.state.auth);
      ctx.body = { clientId: ctx.state.auth.clientId, resource: ctx.state.auth.resource };
    });
    const callback = app.callback();
    return { listener: (req, res) => void callback(req, res), seen };
  };
}

const FRAMEWORKS: [string, MakeApp][] = [
  ["Express 5", expressApp(express)],
  ["Express 4", expressApp(express4)],
  ["Koa 3", koaApp(Koa)],
  ["Koa 2", koaApp(Koa2)],
];

describe.each(FRAMEWORKS)("%s: a protected resource", (_name, makeApp) => {
  // the resource is the app's own URL, so a real client can follow it: listen first, then build
  let server: Listening;
  let app: App;
  let resource: string;
  let handler: RequestListener = (_req, res) => res.end();
  beforeAll(async () => {
    server = await listen((req, res) => handler(req, res));
    resource = `${server.url}/mcp`;
  });
  afterAll(() => server.close());
  function use(options: Partial<VerifierOptions> = {}, guardScope?: string): App {
    app = makeApp(
      { ...base, resource, resourceMetadata: { scopesSupported: ["mcp:tools"], resourceName: "Orders" }, ...options },
      guardScope,
    );
    handler = app.listener;
    return app;
  }
  const token = (claims: Record<string, unknown>) => signHmac(roomsAccessClaims({ iss: AS, ...claims }));
  const metadataUrl = () => `${server.url}/.well-known/oauth-protected-resource/mcp`;

  it("serves its RFC 9728 document at the well-known URL, with its headers", async () => {
    use();
    const res = await request(server.url).get("/.well-known/oauth-protected-resource/mcp");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      resource,
      authorization_servers: [AS],
      bearer_methods_supported: ["header"],
      scopes_supported: ["mcp:tools"],
      resource_name: "Orders",
    });
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["cache-control"]).toBe("public, max-age=3600");
    expect(res.headers["access-control-allow-origin"]).toBe("*");
  });

  it("answers HEAD with the headers alone, the CORS preflight with 204, and other methods 405", async () => {
    use();
    const head = await request(server.url).head("/.well-known/oauth-protected-resource/mcp");
    expect([head.status, head.text ?? ""]).toEqual([200, ""]);
    const preflight = await request(server.url)
      .options("/.well-known/oauth-protected-resource/mcp")
      .set("Origin", "https://inspector.example")
      .set("Access-Control-Request-Method", "GET")
      .set("Access-Control-Request-Headers", "mcp-protocol-version");
    expect([
      preflight.status,
      preflight.headers["access-control-allow-origin"],
      preflight.headers["access-control-allow-methods"],
      preflight.headers["access-control-allow-headers"],
    ]).toEqual([204, "*", "GET, HEAD, OPTIONS", "mcp-protocol-version"]);
    const post = await request(server.url).post("/.well-known/oauth-protected-resource/mcp");
    expect([post.status, post.headers["allow"]]).toEqual([405, "GET, HEAD, OPTIONS"]);
  });

  it("serves the root form for a resource without a path", async () => {
    use({ resource: server.url });
    const res = await request(server.url).get("/.well-known/oauth-protected-resource");
    expect([res.status, (JSON.parse(res.text) as { resource: string }).resource]).toEqual([200, server.url]);
    expect((await request(server.url).get("/.well-known/oauth-protected-resource/mcp")).status).toBe(401);
  });

  it("names the document and the scopes in every 401's challenge", async () => {
    use();
    const none = await request(server.url).get("/mcp");
    expect([none.status, none.text, none.headers["www-authenticate"]]).toEqual([
      401,
      BODY_401,
      `Bearer scope="mcp:tools", resource_metadata="${metadataUrl()}"`,
    ]);
    const bad = await request(server.url).get("/mcp").set("Authorization", "Bearer not.a.jwt");
    expect([bad.status, bad.text, bad.headers["www-authenticate"]]).toEqual([
      401,
      BODY_450,
      `Bearer error="invalid_token", error_description="The access token is malformed", scope="mcp:tools", resource_metadata="${metadataUrl()}"`,
    ]);
  });

  it("challengeScope names other scopes; a guard's 403 keeps naming the guard's", async () => {
    use({ challengeScope: ["orders:read", "orders:write"] }, "orders:write");
    const none = await request(server.url).get("/mcp");
    expect(none.headers["www-authenticate"]).toBe(
      `Bearer scope="orders:read orders:write", resource_metadata="${metadataUrl()}"`,
    );
    const weak = await request(server.url)
      .get("/mcp")
      .set("Authorization", `Bearer ${token({ aud: resource, scope: "orders:read" })}`);
    expect([weak.status, weak.headers["www-authenticate"]]).toEqual([
      403,
      'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:write"',
    ]);
  });

  it("takes only tokens whose aud names the resource exactly, and tells the handler", async () => {
    use();
    const ok = token({ aud: ["other-api", resource], client_id: "agent-7" });
    const res = await request(server.url).get("/mcp").set("Authorization", `Bearer ${ok}`);
    expect([res.status, res.body]).toEqual([200, { clientId: "agent-7", resource }]);
    for (const aud of ["other-api", `${resource}/`, resource.toUpperCase(), `${resource}#x`]) {
      const refused = await request(server.url)
        .get("/mcp")
        .set("Authorization", `Bearer ${token({ aud })}`);
      expect([refused.status, refused.text]).toEqual([401, BODY_450]);
    }
    expect(app.seen).toHaveLength(1);
  });

  it("is read by a real RFC 9728 client (oauth4webapi): the challenge, then the document", async () => {
    use();
    // the resource is on 127.0.0.1 over plain http, as a test's must be
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- oauth4webapi's own switch for exactly that
    const options = { [oauth.allowInsecureRequests]: true };
    const error = await oauth
      .protectedResourceRequest("not.a.jwt", "GET", new URL(resource), new Headers(), null, options)
      .then(
        () => undefined,
        (rejected: unknown) => rejected,
      );
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const [challenge] = (error as oauth.WWWAuthenticateChallengeError).cause;
    expect(challenge?.scheme).toBe("bearer");
    expect(challenge?.parameters).toMatchObject({
      error: "invalid_token",
      scope: "mcp:tools",
      resource_metadata: metadataUrl(),
    });
    const discovered = await oauth.processResourceDiscoveryResponse(
      new URL(resource),
      await oauth.resourceDiscoveryRequest(new URL(resource), options),
    );
    expect([discovered.resource, discovered.authorization_servers]).toEqual([resource, [AS]]);
  });
});

describe("resource options, checked at start-up", () => {
  it.each<[string, VerifierOptions, string | RegExp]>([
    ["not a URL", { ...base, resource: "orders" }, "absolute URL with no fragment"],
    ["a fragment", { ...base, resource: "https://api.example.com/mcp#x" }, "no fragment"],
    ["plain http off this machine", { ...base, resource: "http://api.example.com/mcp" }, "must be an https URL"],
    [
      "with audience",
      { ...base, resource: "https://api.example.com/mcp", audience: "x" },
      "name it once, and leave out `audience`",
    ],
    ["resourceMetadata alone", { ...base, resourceMetadata: { resourceName: "x" } }, "go with `resource`"],
    [
      "a misspelt metadata field",
      { ...base, resource: "https://api.example.com/mcp", resourceMetadata: { scopeSupported: ["a"] } as never },
      "did you mean `scopesSupported`",
    ],
    [
      "a metadata field of the wrong type",
      { ...base, resource: "https://api.example.com/mcp", resourceMetadata: { resourceName: 5 } as never },
      "`resourceMetadata.resourceName` must be a non-empty string",
    ],
    [
      "no authorization server to name",
      { secret: HMAC_SECRET, issuer: "Rooms-API-Internal-Access", resource: "https://api.example.com/mcp" },
      /names none: give `issuerUrl`, `cognito` or an `issuer` URL/,
    ],
  ])("refuses %s", (_name, options, message) => {
    const error = thrownBy(() => createVerifier(options)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
  });

  it("names each Cognito pool's issuer, or the ones given, as authorization servers", async () => {
    expect(() =>
      expressGate.protectedResourceMetadata(expressGate.requireToken({ secret: HMAC_SECRET, issuer: AS })),
    ).toThrow("with `resource` set");
    const documentOf = async (options: VerifierOptions): Promise<unknown> => {
      const app = new Koa().use(koaGate.protectedResourceMetadata(koaGate.requireToken(options)));
      return JSON.parse((await request(app.callback()).get("/.well-known/oauth-protected-resource")).text);
    };
    const pools = { cognito: [{ userPoolId: "eu-west-1_AbCdEf123" }, { userPoolId: "us-east-1_GhIjKl456" }] };
    expect(await documentOf({ ...pools, resource: "https://api.example.com" })).toMatchObject({
      authorization_servers: [
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_GhIjKl456",
      ],
    });
    const given = { authorizationServers: ["https://login.example.com"] };
    expect(await documentOf({ ...pools, resource: "https://api.example.com", resourceMetadata: given })).toMatchObject({
      authorization_servers: ["https://login.example.com"],
    });
  });

  it("a token's aud is compared exactly with the resource, in the core too", async () => {
    const verifier = createVerifier({ ...base, resource: "https://api.example.com/mcp" });
    const auth = await verifier.verifyToken(
      signHmac(roomsAccessClaims({ iss: AS, aud: "https://api.example.com/mcp" })),
    );
    expect([auth.resource, auth.expiresAt.getTime() / 1000]).toEqual(["https://api.example.com/mcp", NOW + 86_400]);
  });
});
