import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import request from "supertest";
import type { VerifierOptions } from "bearer-gate";
import { hmacTokens } from "bearer-gate/testing";
import { FRAMEWORKS } from "../adapters/frameworks.js";
import { BODY_450 } from "../fixtures/catalogue.js";

// Certificate-bound tokens (RFC 8705) over a real TLS server on 127.0.0.1 that asks for client
// certificates, with a CA and certificates made for the tests (test/fixtures/mtls/README.md).
const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const tokens = hmacTokens(SECRET);
const pem = (name: string): string => readFileSync(`test/fixtures/mtls/${name}`, "utf8");
const CA = pem("ca.pem");
const CLIENTS = {
  a: { cert: pem("client-a.pem"), key: pem("client-a.key") },
  b: { cert: pem("client-b.pem"), key: pem("client-b.key") },
};
// RFC 8705 §3.1: base64url(SHA-256(DER))
const x5t = (certificate: string): string =>
  createHash("sha256").update(new X509Certificate(certificate).raw).digest("base64url");
const WRONG_CERTIFICATE =
  'Bearer error="invalid_token", error_description="The access token is bound to another client certificate"';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly challenge: string | undefined;
}

// a TLS server asking for client certificates; `rejectUnauthorized: false` lets a client with none
// (or a self-signed one, RFC 8705 §2.2) reach the app, which must then refuse a bound token
async function serveTls(listener: RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const server = https.createServer(
    { key: pem("server.key"), cert: pem("server.pem"), ca: CA, requestCert: true, rejectUnauthorized: false },
    listener,
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function get(port: number, token: string, client?: { cert: string; key: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path: "/orders",
        ca: CA,
        agent: false,
        headers: { authorization: `Bearer ${token}` },
        ...client,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            challenge: res.headers["www-authenticate"],
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe.each(FRAMEWORKS)("certificate-bound tokens (RFC 8705) on %s", (_name, makeGate) => {
  const bound = (certificate: string, claims: Record<string, unknown> = {}): string =>
    tokens.access({ cnf: { "x5t#S256": x5t(certificate) }, ...claims });
  const app = (options: VerifierOptions) =>
    makeGate(options, { answer: (auth) => ({ binding: auth.binding ?? null }) }).app;
  let servers: { close: () => Promise<void> }[] = [];
  const tls = async (options: VerifierOptions) => {
    const server = await serveTls(app(options));
    servers.push(server);
    return server.port;
  };
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.close()));
    servers = [];
  });

  it("lets a token through over TLS with the certificate it is bound to, and says so", async () => {
    const port = await tls(tokens.options({ certificateBound: true }));
    const answer = await get(port, bound(CLIENTS.a.cert), CLIENTS.a);
    expect([answer.status, JSON.parse(answer.body)]).toEqual([
      200,
      { binding: { method: "mtls", thumbprint: x5t(CLIENTS.a.cert) } },
    ]);
  });

  it.each([
    ["another client's certificate", () => CLIENTS.b],
    ["no client certificate", () => undefined],
  ])("refuses a bound token presented with %s (wrong_certificate)", async (_case, client) => {
    const port = await tls(tokens.options({ certificateBound: true }));
    const answer = await get(port, bound(CLIENTS.a.cert), client());
    expect([answer.status, answer.body, answer.challenge]).toEqual([401, BODY_450, WRONG_CERTIFICATE]);
  });

  it("with certificateBound, refuses a token that is not bound", async () => {
    const port = await tls(tokens.options({ certificateBound: true }));
    const answer = await get(port, tokens.access(), CLIENTS.a);
    expect([answer.status, answer.challenge]).toEqual([401, WRONG_CERTIFICATE]);
  });

  it("without certificateBound, refuses a bound token rather than take it as a bearer token", async () => {
    const port = await tls(tokens.options());
    const answer = await get(port, bound(CLIENTS.a.cert), CLIENTS.a);
    expect([answer.status, answer.challenge]).toEqual([401, WRONG_CERTIFICATE]);
    expect((await get(port, tokens.access(), CLIENTS.a)).status).toBe(200);
  });

  it("behind a TLS-ending proxy, reads the certificate only where clientCertificate says (URL-encoded PEM, as nginx sends it)", async () => {
    const token = bound(CLIENTS.a.cert);
    const header = encodeURIComponent(CLIENTS.a.cert);
    const fromHeader = app(
      tokens.options({
        certificateBound: true,
        clientCertificate: (req) => {
          const value = (req as { headers: Record<string, unknown> }).headers["x-client-cert"];
          return typeof value === "string" ? value : undefined;
        },
      }),
    );
    const proxied = await request(fromHeader)
      .get("/orders")
      .set("Authorization", `Bearer ${token}`)
      .set("X-Client-Cert", header);
    expect([proxied.status, proxied.body]).toEqual([
      200,
      { binding: { method: "mtls", thumbprint: x5t(CLIENTS.a.cert) } },
    ]);
    // no clientCertificate: a header is never read, so plain HTTP carries no certificate
    const direct = app(tokens.options({ certificateBound: true }));
    const spoofed = await request(direct)
      .get("/orders")
      .set("Authorization", `Bearer ${token}`)
      .set("X-Client-Cert", header)
      .set("X-SSL-Client-Cert", header);
    expect([spoofed.status, spoofed.headers["www-authenticate"]]).toEqual([401, WRONG_CERTIFICATE]);
  });
});
