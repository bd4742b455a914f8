import request from "supertest";
import { createVerifier, KeySetError, type AuthContext, type VerifierOptions } from "bearer-gate";
import { BODY_980 } from "../fixtures/catalogue.js";
import { FRAMEWORKS } from "./frameworks.js";
import { JwksServer, makeKey, type Mode, type TestKey } from "../fixtures/jwks-server.js";
import { cognitoAccessClaims, HMAC_SECRET, signRs256 } from "../fixtures/tokens.js";

// ready(): the keys at hand before the first request, or a start-up error that names the URL and
// the cause; and Retry-After on the 503 a key outage answers.
const route = { answer: (auth: AuthContext) => ({ sub: auth.claims.sub }) };

let key: TestKey;
let server: JwksServer;
beforeAll(async () => {
  key = makeKey();
  server = await JwksServer.start([key]);
});
afterAll(() => server.close());
beforeEach(async () => {
  server.mode = "serve";
  server.delayMs = 0;
  if (!server.listening) await server.up();
});

const issuer = (): string => server.issuer;
const options = (extra: Partial<VerifierOptions> = {}): VerifierOptions => ({
  jwksUri: server.jwksUri,
  issuer: issuer(),
  ...extra,
});
const token = (): string =>
  `Bearer ${signRs256(cognitoAccessClaims(issuer(), {}, Math.floor(Date.now() / 1000)), key)}`;

describe.each(FRAMEWORKS)("%s: ready() and Retry-After", (_name, makeGate) => {
  it("ready() downloads the key set before the first request, which then waits for nothing", async () => {
    const before = server.requests;
    const gate = makeGate(options(), route);
    await gate.ready();
    expect(server.requests).toBe(before + 1);
    const res = await request(gate.app).get("/").set("Authorization", token());
    expect([res.status, server.requests]).toEqual([200, before + 1]);
  });

  it("ready() rejects with a KeySetError naming the URL and the cause when the key server refuses", async () => {
    await server.down();
    const gate = makeGate(options(), route);
    const error = await gate.ready().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeySetError);
    expect((error as KeySetError).message).toContain(server.jwksUri);
    expect((error as KeySetError).message).toContain("connection was refused");
  });

  it("a key outage answers 503 with Retry-After: whole seconds until the next download may be tried", async () => {
    await server.down();
    const gate = makeGate(options({ jwksFetch: { retryAfterFailureMs: 4_000 } }), route);
    const first = await request(gate.app).get("/").set("Authorization", token());
    const second = await request(gate.app).get("/").set("Authorization", token());
    for (const res of [first, second]) {
      expect([res.status, res.text]).toEqual([503, BODY_980]);
      const seconds = Number(res.headers["retry-after"]);
      expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 4).toBe(true);
    }
  });
});

describe("ready() in the core", () => {
  it("resolves at once for a secret", async () => {
    await expect(createVerifier({ secret: HMAC_SECRET }).ready()).resolves.toBeUndefined();
  });

  it.each<[string, Mode, string]>([
    ["an answer that is not JSON", "html", "the answer is not JSON"],
    ["a key set with no keys", "empty", "did not contain any keys"],
    ["an HTTP error", "error500", "HTTP 500"],
    ["no answer in time", "hang", "within 300 ms"],
  ])("rejects for %s, saying so", async (_case, mode, cause) => {
    server.mode = mode;
    const verifier = createVerifier(options({ jwksFetch: { timeoutMs: 300 } }));
    const error = await verifier.ready().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeySetError);
    expect([(error as KeySetError).uri, (error as Error).message]).toEqual([
      server.jwksUri,
      expect.stringContaining(cause),
    ]);
  });

  it("joins a download in flight rather than starting another", async () => {
    server.delayMs = 100;
    const before = server.requests;
    const verifier = createVerifier(options());
    await Promise.all([verifier.ready(), verifier.ready(), verifier.verify(token())]);
    expect(server.requests).toBe(before + 1);
  });
});
