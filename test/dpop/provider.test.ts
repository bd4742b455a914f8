import type { RequestListener } from "node:http";
import * as oauth from "oauth4webapi";
import { decodeJwt } from "jose";
import type { VerifierOptions } from "bearer-gate";
import { FRAMEWORKS } from "../adapters/frameworks.js";
import { listen, type Listening } from "../fixtures/http.js";
import { startProvider, type Provider } from "../fixtures/provider.js";

// A real authorization server (oidc-provider, DPoP on) issues DPoP-bound JWT access tokens by the
// client credentials grant to a real DPoP client (oauth4webapi), which calls the API through them.
let provider: Provider;
let as: oauth.AuthorizationServer;
// the servers are on 127.0.0.1 over plain http, as a test's must be
// eslint-disable-next-line @typescript-eslint/no-deprecated -- oauth4webapi's own switch for exactly that
const insecure = { [oauth.allowInsecureRequests]: true };
const client: oauth.Client = { client_id: "orders-worker" };
const clientAuth = oauth.ClientSecretBasic("a-client-secret-for-the-test-provider");

beforeAll(async () => {
  provider = await startProvider();
  const issuer = new URL(provider.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}, 20_000);

afterAll(async () => {
  await provider.stop();
});

async function dpopToken(dpop: oauth.DPoPHandle): Promise<string> {
  const params = new URLSearchParams({ scope: "orders:read", resource: provider.resource });
  const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, params, {
    DPoP: dpop,
    ...insecure,
  });
  const result = await oauth.processClientCredentialsResponse(as, client, response);
  expect(result.token_type).toBe("dpop");
  return result.access_token;
}

describe.each(FRAMEWORKS)("oidc-provider's DPoP-bound tokens, sent by oauth4webapi, on %s", (_name, makeGate) => {
  let api: Listening;
  let handler: RequestListener = (_req, res) => res.end();
  const gateOptions = (dpop: Partial<NonNullable<VerifierOptions["dpop"]>> = {}): VerifierOptions => ({
    issuerUrl: provider.issuer,
    audience: provider.resource,
    dpop: { origin: api.url, ...dpop },
  });
  const serve = (options: VerifierOptions): void => {
    handler = makeGate(options, {
      scope: "orders:read",
      answer: (auth) => ({ binding: auth.binding ?? null, client: auth.clientId ?? null }),
    }).app;
  };
  const call = (token: string, dpop: oauth.DPoPHandle, path = "/orders") =>
    oauth.protectedResourceRequest(token, "GET", new URL(`${api.url}${path}`), new Headers(), null, {
      DPoP: dpop,
      ...insecure,
    });

  beforeAll(async () => {
    api = await listen((req, res) => handler(req, res));
  });
  afterAll(async () => {
    await api.close();
  });

  it("takes the token with the client's proofs, and binds the context to its key", async () => {
    serve(gateOptions());
    const keyPair = await oauth.generateKeyPair("ES256");
    const handle = oauth.DPoP(client, keyPair);
    const token = await dpopToken(handle);
    const { cnf } = decodeJwt(token) as { cnf?: { jkt?: string } };
    expect(typeof cnf?.jkt).toBe("string");
    for (const path of ["/orders", "/orders?page=2"]) {
      const response = await call(token, handle, path);
      expect([response.status, await response.json()]).toEqual([
        200,
        { binding: { method: "dpop", thumbprint: cnf?.jkt }, client: "orders-worker" },
      ]);
    }
  });

  it("refuses the token with another key's proofs, and as a plain bearer token", async () => {
    serve(gateOptions());
    const handle = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    const token = await dpopToken(handle);
    const thief = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    const stolen = await call(token, thief).catch((error: unknown) => error);
    expect(stolen).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const [, dpopChallenge] = (stolen as oauth.WWWAuthenticateChallengeError).cause;
    expect([dpopChallenge?.scheme, dpopChallenge?.parameters.error]).toEqual(["dpop", "invalid_dpop_proof"]);
    const asBearer = await fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${token}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token".*DPoP-bound/);
  });

  it("hands out a nonce the client picks up and retries with (RFC 9449 §9)", async () => {
    serve(gateOptions({ nonce: true, required: true }));
    const handle = oauth.DPoP(client, await oauth.generateKeyPair("EdDSA"));
    const token = await dpopToken(handle);
    const first = await call(token, handle).catch((error: unknown) => error);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    const retried = await call(token, handle);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("dpop-nonce")).toMatch(/^[\w-]{43}$/);
  });
});
