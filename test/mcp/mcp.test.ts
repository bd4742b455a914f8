import type { RequestListener } from "node:http";
import express from "express";
import Koa from "koa";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createHmac } from "node:crypto";
import { createVerifier, TokenError, type VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { createMcpVerifier, mcpRequest, toAuthInfo } from "bearer-gate/mcp";
import { listen, type Listening } from "../fixtures/http.js";
import { startProvider, type Provider } from "../fixtures/provider.js";

// An MCP server that works end to end: the SDK's McpServer and Streamable HTTP transport behind
// bearer-gate on Express and on Koa; the SDK's own client, which on a 401 reads the resource
// metadata, gets a token by client credentials from a real authorization server (oidc-provider
// with resource indicators, on 127.0.0.1) and calls a tool; the tool sees the SDK's AuthInfo.

// The SDK's requireBearerAuth module declares `req.auth` as its AuthInfo on Express's Request, which
// clashes with bearer-gate/express's declaration in this one TypeScript program (docs/mcp.md says
// why; the docs test compiles a program with it and bearer-gate/mcp alone): loaded untyped here.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
const { requireBearerAuth } = require("@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js") as {
  requireBearerAuth: (options: {
    verifier: OAuthTokenVerifier;
    resourceMetadataUrl?: string;
  }) => express.RequestHandler;
};

interface Seen {
  clientId?: string;
  scopes?: string[];
  expiresAt?: number;
  resource?: string;
  sub?: unknown;
}

/** A stateless MCP server with one tool that answers what it saw of the caller. */
function mcpServer(): McpServer {
  const server = new McpServer({ name: "orders", version: "1.0.0" });
  server.registerTool("whoami", { description: "Who is calling, as the tool sees it" }, (extra) => {
    const info = extra.authInfo;
    const seen: Seen = {
      ...(info === undefined
        ? {}
        : {
            clientId: info.clientId,
            scopes: info.scopes,
            ...(info.expiresAt === undefined ? {} : { expiresAt: info.expiresAt }),
            ...(info.resource === undefined ? {} : { resource: info.resource.href }),
            sub: (info.extra?.["claims"] as Record<string, unknown> | undefined)?.["sub"],
          }),
    };
    return { content: [{ type: "text", text: JSON.stringify(seen) }] };
  });
  return server;
}

type Kind = "express" | "koa" | "sdk-bearer";

function appFor(kind: Kind, options: VerifierOptions, resource: string): RequestListener {
  const handle = async (req: Parameters<RequestListener>[0], res: Parameters<RequestListener>[1], body?: unknown) => {
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({}); // no sessionIdGenerator: stateless
    res.on("close", () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
  if (kind === "express") {
    const gate = expressGate.requireToken(options);
    const app = express().use(express.json()).use(expressGate.protectedResourceMetadata(gate));
    app.post("/mcp", gate, (req, res) => void handle(mcpRequest(req), res, req.body));
    app.all("/mcp", gate, (_req, res) => void res.status(405).set("Allow", "POST").end());
    return app;
  }
  if (kind === "koa") {
    const gate = koaGate.requireToken(options);
    const app = new Koa().use(koaGate.protectedResourceMetadata(gate)).use(gate);
    app.use(async (ctx) => {
      if (ctx.method !== "POST") {
        ctx.status = 405;
        ctx.set("Allow", "POST");
        return;
      }
      ctx.respond = false; // the transport writes the response itself
      await handle(mcpRequest(ctx.req, ctx.state.auth), ctx.res);
    });
    const callback = app.callback();
    return (req, res) => void callback(req, res);
  }
  // the SDK's own middleware, with bearer-gate's checks as its verifier
  const metadataUrl = `${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp`;
  const gate = expressGate.requireToken(options); // for the metadata document only
  const app = express().use(express.json()).use(expressGate.protectedResourceMetadata(gate));
  const sdkAuth = requireBearerAuth({ verifier: createMcpVerifier(options), resourceMetadataUrl: metadataUrl });
  app.post("/mcp", sdkAuth, (req, res) => void handle(req, res, req.body));
  return app;
}

describe.each<[string, Kind]>([
  ["Express", "express"],
  ["Koa", "koa"],
  ["the SDK's requireBearerAuth with createMcpVerifier", "sdk-bearer"],
])("an MCP server behind bearer-gate (%s)", (_name, kind) => {
  let provider: Provider;
  let server: Listening;
  let resource: string;
  let handler: RequestListener = (_req, res) => res.end();
  beforeAll(async () => {
    server = await listen((req, res) => handler(req, res));
    resource = `${server.url}/mcp`;
    provider = await startProvider(resource);
    const options = { issuerUrl: provider.issuer, resource, resourceMetadata: { scopesSupported: ["mcp:tools"] } };
    handler = appFor(kind, options, resource);
  }, 30_000);
  afterAll(async () => {
    await server.close();
    await provider.stop();
  });

  it("answers a client without a token 401, naming the metadata document, which names the issuer", async () => {
    const res = await fetch(resource, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    const metadataUrl = `${server.url}/.well-known/oauth-protected-resource/mcp`;
    expect(res.headers.get("www-authenticate")).toContain(`resource_metadata="${metadataUrl}"`);
    const document = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    expect(document).toMatchObject({ resource, authorization_servers: [provider.issuer] });
    const client = new Client({ name: "anonymous", version: "1.0.0" });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(resource)))).rejects.toThrow();
  });

  it("lets the SDK's client get a token for the resource and call a tool that sees the right AuthInfo", async () => {
    const authProvider = new ClientCredentialsProvider({
      clientId: "mcp-agent",
      clientSecret: "a-client-secret-for-the-mcp-agent-of-the-test",
      expectedIssuer: provider.issuer,
      scope: "mcp:tools",
    });
    const client = new Client({ name: "agent", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider }));
    try {
      const result = await client.callTool({ name: "whoami", arguments: {} });
      const [content] = result.content as { type: string; text: string }[];
      const seen = JSON.parse(content?.text ?? "{}") as Seen;
      const now = Date.now() / 1000;
      expect(seen).toMatchObject({ clientId: "mcp-agent", resource, sub: "mcp-agent" });
      expect(seen.scopes).toContain("mcp:tools");
      // seconds since the epoch, as the SDK means it: oidc-provider's tokens here live 600 s
      expect(seen.expiresAt! - now).toBeGreaterThan(500);
      expect(seen.expiresAt! - now).toBeLessThanOrEqual(601);
      expect(authProvider.tokens()?.access_token).toMatch(/^ey/);
    } finally {
      await client.close();
    }
  });

  it("refuses the provider's token for another resource", async () => {
    const token = await provider.token("api://orders");
    const res = await fetch(resource, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });
});

describe("toAuthInfo and mcpRequest", () => {
  it("refuses an auth context requireToken did not make", () => {
    expect(() => mcpRequest({ auth: { token: "x", claims: { exp: 1 } } })).toThrow(TokenError);
  });

  it("leaves an anonymous request as it is", () => {
    const req = { url: "/mcp" };
    expect(mcpRequest(req)).toBe(req);
  });

  it("is what the SDK's AuthInfo says: seconds, a URL, a fresh scopes list", async () => {
    // an HMAC token of an issuer of our own, for the resource
    const secret = "a-secret-for-the-mcp-unit-test-of-32-bytes";
    const seg = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const input = `${seg({ alg: "HS256" })}.${seg({ exp: 4_102_444_800, aud: "https://api.example.com/mcp", azp: "web", scope: "a b", iss: "https://auth.example.com" })}`;
    const token = `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
    const verifier = createVerifier({
      secret,
      issuer: "https://auth.example.com",
      resource: "https://api.example.com/mcp",
    });
    const info = toAuthInfo(await verifier.verifyToken(token));
    expect(info).toMatchObject({ token, clientId: "web", scopes: ["a", "b"], expiresAt: 4_102_444_800 });
    expect(info.resource).toEqual(new URL("https://api.example.com/mcp"));
    info.scopes.push("c"); // the SDK's type is a mutable list: a copy, not the cache's frozen one
  });
});
