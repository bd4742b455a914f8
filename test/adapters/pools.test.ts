import request from "supertest";
import { ConfigError, createVerifier, type AuthContext, type CognitoOptions, type VerifierOptions } from "bearer-gate";
import { BODY_450 } from "../fixtures/catalogue.js";
import { JwksServer, makeKey, type TestKey } from "../fixtures/jwks-server.js";
import { cognitoAccessClaims, signRs256 } from "../fixtures/tokens.js";
import { thrownBy } from "../helpers.js";
import { FRAMEWORKS } from "./frameworks.js";

// cognito as a list of user pools: a token is matched to its pool by iss and verified only with
// that pool's keys and client ids; auth.userPoolId names the pool. Each pool here is an emulator's
// (its own jwksUri and issuer on 127.0.0.1).
const route = { answer: (auth: AuthContext) => ({ pool: auth.userPoolId, client: auth.claims["client_id"] }) };

interface Pool {
  readonly id: string;
  readonly key: TestKey;
  readonly server: JwksServer;
  readonly issuer: string;
}

let a: Pool;
let b: Pool;
beforeAll(async () => {
  const start = async (id: string): Promise<Pool> => {
    const key = makeKey();
    const server = await JwksServer.start([key]);
    return { id, key, server, issuer: `${server.issuer}/${id}` };
  };
  [a, b] = await Promise.all([start("local_PoolA1"), start("local_PoolB2")]);
});
afterAll(async () => {
  await a.server.close();
  await b.server.close();
});

const entry = (pool: Pool, clientId: string | string[]): CognitoOptions => ({
  userPoolId: pool.id,
  clientId,
  jwksUri: pool.server.jwksUri,
  issuer: pool.issuer,
});
const options = (): VerifierOptions => ({ cognito: [entry(a, "web"), entry(b, ["ios", "android"])] });
const now = (): number => Math.floor(Date.now() / 1000);
const token = (iss: string, clientId: string, signer: TestKey): string =>
  `Bearer ${signRs256(cognitoAccessClaims(iss, { client_id: clientId }, now()), signer)}`;

describe.each(FRAMEWORKS)("%s: several user pools", (_name, makeGate) => {
  const makeApp = (options: VerifierOptions) => makeGate(options, route).app;
  it("verifies each pool's tokens with its own keys and clients, and says which pool", async () => {
    const app = makeApp(options());
    const fromA = await request(app)
      .get("/")
      .set("Authorization", token(a.issuer, "web", a.key));
    const fromB = await request(app)
      .get("/")
      .set("Authorization", token(b.issuer, "android", b.key));
    expect([fromA.status, fromA.body, fromB.status, fromB.body]).toEqual([
      200,
      { pool: a.id, client: "web" },
      200,
      { pool: b.id, client: "android" },
    ]);
  });

  it.each([
    ["pool A's issuer, signed with pool B's key", () => token(a.issuer, "web", b.key)],
    ["pool B's issuer, signed with pool A's key", () => token(b.issuer, "ios", a.key)],
    ["pool A's token for pool B's client", () => token(a.issuer, "ios", a.key)],
    ["pool B's token for pool A's client", () => token(b.issuer, "web", b.key)],
    ["an issuer no pool has", () => token(`${a.issuer}-other`, "web", a.key)],
  ])("refuses %s with 450", async (_case, make) => {
    const res = await request(makeApp(options())).get("/").set("Authorization", make());
    expect([res.status, res.text]).toEqual([401, BODY_450]);
  });
});

describe("several user pools in the core", () => {
  it("never asks one pool's key server for another pool's token, and ready() downloads every pool's keys", async () => {
    const verifier = createVerifier(options());
    const before = [a.server.requests, b.server.requests];
    await verifier.ready();
    expect([a.server.requests - before[0]!, b.server.requests - before[1]!]).toEqual([1, 1]);
    // an unknown kid in pool A's token may refetch pool A's keys, never pool B's
    await expect(verifier.verify(token(a.issuer, "web", makeKey()))).rejects.toMatchObject({ reason: "unknown_key" });
    expect(b.server.requests - before[1]!).toBe(1);
  });

  it("answers a cache hit from the pool that verified the token", async () => {
    const verifier = createVerifier(options());
    const header = token(b.issuer, "ios", b.key);
    const [miss, hit] = [await verifier.verify(header), await verifier.verify(header)];
    expect([miss.userPoolId, hit.userPoolId, hit.claims]).toEqual([b.id, b.id, miss.claims]);
    expect(hit.claims).toBe(miss.claims);
  });

  it("names the single pool too", async () => {
    const verifier = createVerifier({ cognito: entry(a, "web") });
    await expect(verifier.verify(token(a.issuer, "web", a.key))).resolves.toHaveProperty("userPoolId", a.id);
  });

  it.each<[string, () => object, string]>([
    ["an empty list", () => ({ cognito: [] }), "at least one user pool"],
    [
      "two pools sharing an issuer",
      () => ({ cognito: [entry(a, "web"), { ...entry(b, "ios"), issuer: a.issuer }] }),
      "so a token could not be told apart: one pool with both client ids",
    ],
    [
      "a list with jwksUri beside it",
      () => ({ cognito: [entry(a, "web"), entry(b, "ios")], jwksUri: "http://127.0.0.1:1/j" }),
      "`jwksUri` beside `cognito` would be every pool's: move it into the pool it belongs to",
    ],
    [
      "a pool of the list with a bad pool id",
      () => ({ cognito: [entry(a, "web"), { ...entry(b, "ios"), userPoolId: "pool-two" }] }),
      '`cognito[1].userPoolId` must look like "sa-east-1_6ygLpRK0e", got "pool-two"',
    ],
    [
      "a pool of the list with a typo",
      () => ({ cognito: [entry(a, "web"), { ...entry(b, "ios"), clientID: "x" }] }),
      "`cognito[1]`",
    ],
  ])("%s is a ConfigError", (_case, bad, message) => {
    const error = thrownBy(() => createVerifier(bad() as VerifierOptions));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
  });
});
