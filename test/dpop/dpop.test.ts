import { createHmac, generateKeyPairSync } from "node:crypto";
import express from "express";
import request from "supertest";
import { ConfigError, createVerifier, type ReplayStore, type VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import { createDpopKey, dpopProof, hmacTokens, type TestDpopKey } from "bearer-gate/testing";
import { FRAMEWORKS } from "../adapters/frameworks.js";
import { BODY_400, BODY_450, BODY_980 } from "../fixtures/catalogue.js";
import { thrownBy } from "../helpers.js";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const ORIGIN = "https://api.example.test";
const URL_ORDERS = `${ORIGIN}/orders`;
const tokens = hmacTokens(SECRET);
const ALGS = 'algs="ES256 EdDSA Ed25519 RS256 PS256"';
const PROOF_INVALID = `Bearer, DPoP error="invalid_dpop_proof", error_description="The DPoP proof is missing or invalid", ${ALGS}`;
const DPOP_INVALID_TOKEN = (description: string): string =>
  `Bearer, DPoP error="invalid_token", error_description="${description}", ${ALGS}`;

type Options = Omit<VerifierOptions, "secret">;
const dpopOptions = (dpop: Partial<NonNullable<VerifierOptions["dpop"]>> = {}, rest: Options = {}): VerifierOptions =>
  tokens.options({ ...rest, dpop: { origin: ORIGIN, ...dpop } });

describe.each(FRAMEWORKS)("DPoP (RFC 9449) on %s", (_name, makeGate) => {
  let key: TestDpopKey;
  let token: string;
  const handled: unknown[] = [];
  const appWith = (options: VerifierOptions) =>
    makeGate(options, { answer: (auth) => (handled.push(auth), { binding: auth.binding ?? null }) }).app;
  const proof = (extra: Partial<Parameters<TestDpopKey["proof"]>[0]> = {}, by: TestDpopKey = key): string =>
    by.proof({ method: "GET", url: URL_ORDERS, accessToken: token, ...extra });
  const send = (
    app: ReturnType<typeof appWith>,
    dpop: string | string[] | undefined,
    authorization = `DPoP ${token}`,
  ) => {
    const pending = request(app).get("/orders").set("Authorization", authorization);
    // superagent's types take one value; Node's setHeader sends a list as that many header lines
    return dpop === undefined ? pending : pending.set("DPoP", dpop as string);
  };

  beforeAll(() => {
    key = createDpopKey();
  });
  beforeEach(() => {
    handled.length = 0;
    token = tokens.access({ dpopKey: key });
  });

  it("lets a DPoP-bound token through with its proof, and says how it was bound", async () => {
    const res = await send(appWith(dpopOptions()), proof());
    expect([res.status, res.body]).toEqual([200, { binding: { method: "dpop", thumbprint: key.thumbprint } }]);
    expect(res.headers["dpop-nonce"]).toBeUndefined();
  });

  it.each(["EdDSA", "RS256", "PS256"] as const)("takes proofs signed with %s", async (algorithm) => {
    const other = createDpopKey(algorithm);
    token = tokens.access({ dpopKey: other });
    const res = await send(appWith(dpopOptions()), proof({}, other));
    expect([res.status, res.body]).toEqual([200, { binding: { method: "dpop", thumbprint: other.thumbprint } }]);
  });

  it("takes the scheme in any case, and a request whose query the proof does not name", async () => {
    const res = await request(appWith(dpopOptions()))
      .get("/orders?page=2")
      .set("Authorization", `dpop ${token}`)
      .set("DPoP", proof());
    expect(res.status).toBe(200);
  });

  it("refuses a proof used twice (replay), and runs no handler", async () => {
    const app = appWith(dpopOptions());
    const once = proof();
    expect((await send(app, once)).status).toBe(200);
    const again = await send(app, once);
    expect([again.status, again.text, again.headers["www-authenticate"]]).toEqual([401, BODY_450, PROOF_INVALID]);
    expect(handled).toHaveLength(1);
  });

  const hostile: [string, () => string | string[] | undefined][] = [
    ["no DPoP header", () => undefined],
    ["an empty DPoP header", () => ""],
    ["two DPoP headers", () => [proof(), proof()]],
    ["a proof for another method", () => proof({ method: "POST" })],
    ["a proof for another path", () => proof({ url: `${ORIGIN}/orders/7` })],
    ["a proof for another origin", () => proof({ url: "https://evil.example/orders" })],
    ["a proof for http instead of https", () => proof({ url: "http://api.example.test/orders" })],
    ["a proof for another access token (ath)", () => proof({ accessToken: tokens.access({ dpopKey: key }) })],
    ["a proof with no ath", () => proof({ accessToken: undefined })],
    ["a proof older than 60 s", () => proof({ iat: Math.floor(Date.now() / 1000) - 120 })],
    ["a proof from the future", () => proof({ iat: Math.floor(Date.now() / 1000) + 120 })],
    ["a proof with no jti", () => proof({ claims: { jti: undefined } })],
    ["a proof with no iat", () => proof({ claims: { iat: undefined } })],
    ["a proof whose typ is JWT", () => proof({ header: { typ: "JWT" } })],
    ["a proof with no typ", () => proof({ header: { typ: undefined } })],
    ["a proof signed by another key than its jwk", () => proof({ header: { jwk: createDpopKey().publicJwk } })],
    ["a valid proof by another key than the token's", () => proof({}, createDpopKey())],
    ["a proof with alg none", () => unsigned({ typ: "dpop+jwt", alg: "none", jwk: key.publicJwk })],
    ["an HMAC proof", () => hmacProof()],
    ["a proof carrying a private jwk", () => proof({ header: { jwk: privateJwk() } })],
    ["a proof with no jwk", () => proof({ header: { jwk: undefined } })],
    ["a proof with a symmetric jwk", () => proof({ header: { jwk: { kty: "oct", k: "c2VjcmV0" } } })],
    ["a proof whose jwk is an RSA key of 1024 bits", () => weakRsaProof()],
    ["garbage", () => "not.a.proof"],
    ["an access token in place of a proof", () => token],
  ];

  it.each(hostile)("refuses %s with invalid_dpop_proof (401/450), and runs no handler", async (_case, make) => {
    const res = await send(appWith(dpopOptions()), make());
    expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([401, BODY_450, PROOF_INVALID]);
    expect(handled).toHaveLength(0);
  });

  it("refuses a proof sent as the access token (its typ is dpop+jwt: wrong_token_use)", async () => {
    const app = appWith(dpopOptions());
    const dpop = proof();
    for (const scheme of ["Bearer", "DPoP"]) {
      const res = await send(app, dpop, `${scheme} ${dpop}`);
      const description = "The token is not an access token";
      expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([
        401,
        BODY_450,
        scheme === "Bearer"
          ? `Bearer error="invalid_token", error_description="${description}", DPoP ${ALGS}`
          : DPOP_INVALID_TOKEN(description),
      ]);
    }
    expect(handled).toHaveLength(0);
  });

  it("never takes the origin from Host or X-Forwarded-*", async () => {
    const res = await send(appWith(dpopOptions()), proof({ url: "https://evil.example/orders" }))
      .set("Host", "evil.example")
      .set("X-Forwarded-Host", "evil.example")
      .set("X-Forwarded-Proto", "https");
    expect([res.status, res.headers["www-authenticate"]]).toEqual([401, PROOF_INVALID]);
  });

  it("refuses a DPoP-bound token sent with the Bearer scheme (dpop_bound_token), with or without the option", async () => {
    for (const options of [dpopOptions(), tokens.options()]) {
      const res = await send(appWith(options), proof(), `Bearer ${token}`);
      const description = "The access token is DPoP-bound: send it with the DPoP scheme and a proof";
      const bearer = `Bearer error="invalid_token", error_description="${description}"`;
      expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([
        401,
        BODY_450,
        options.dpop === undefined ? bearer : `${bearer}, DPoP ${ALGS}`,
      ]);
    }
    expect(handled).toHaveLength(0);
  });

  it("refuses an unbound token sent with the DPoP scheme", async () => {
    token = tokens.access();
    const res = await send(appWith(dpopOptions()), proof());
    expect([res.status, res.headers["www-authenticate"]]).toEqual([401, PROOF_INVALID]);
  });

  it("still takes plain bearer tokens unless DPoP is required", async () => {
    const plain = tokens.access();
    const res = await send(appWith(dpopOptions()), undefined, `Bearer ${plain}`);
    expect([res.status, res.body]).toEqual([200, { binding: null }]);
  });

  it("with required, refuses a bearer token (dpop_required, 400) with only a DPoP challenge", async () => {
    const res = await send(appWith(dpopOptions({ required: true })), undefined, `Bearer ${tokens.access()}`);
    expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([
      401,
      BODY_400,
      `DPoP error="invalid_request", error_description="The Authorization header must be DPoP followed by one token, with a DPoP proof", ${ALGS}`,
    ]);
    const missing = await request(appWith(dpopOptions({ required: true }))).get("/orders");
    expect([missing.status, missing.headers["www-authenticate"]]).toEqual([401, `DPoP ${ALGS}`]);
  });

  it("puts a token's own error on the DPoP challenge when it came with DPoP", async () => {
    token = tokens.access({ dpopKey: key, expiresIn: -10 });
    const res = await send(appWith(dpopOptions()), proof());
    expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([
      401,
      BODY_450,
      DPOP_INVALID_TOKEN("The access token expired"),
    ]);
  });

  it("with nonce, hands one out and refuses a proof without it (use_dpop_nonce), then takes it", async () => {
    const app = appWith(dpopOptions({ nonce: { secret: "a-nonce-secret-of-at-least-32-bytes!" } }));
    const first = await send(app, proof());
    const nonce = first.headers["dpop-nonce"] as string;
    expect([first.status, first.text, first.headers["www-authenticate"]]).toEqual([
      401,
      BODY_450,
      `Bearer, DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", ${ALGS}`,
    ]);
    expect(nonce).toMatch(/^[\w-]{43}$/);
    const wrong = await send(app, proof({ nonce: "not-the-nonce" }));
    expect([wrong.status, wrong.headers["www-authenticate"]]).toEqual([401, first.headers["www-authenticate"]]);
    const second = await send(app, proof({ nonce }));
    expect([second.status, second.headers["dpop-nonce"]]).toEqual([200, nonce]);
    // another instance with the same secret takes the same nonce
    const other = appWith(dpopOptions({ nonce: { secret: "a-nonce-secret-of-at-least-32-bytes!" } }));
    expect((await send(other, proof({ nonce }))).status).toBe(200);
  });

  it("fails closed when the replay store fails: 503 with Retry-After, never a pass", async () => {
    const broken: ReplayStore[] = [
      {
        add: () => {
          throw new Error("store down");
        },
      },
      { add: () => Promise.reject(new Error("store down")) },
    ];
    for (const replayStore of broken) {
      const res = await send(appWith(dpopOptions({ replayStore })), proof());
      expect([res.status, res.text, res.headers["retry-after"]]).toEqual([503, BODY_980, "1"]);
    }
    expect(handled).toHaveLength(0);
  });

  it("with credentialsRequired false, a DPoP request is checked, never let through anonymously", async () => {
    const res = await send(appWith(dpopOptions({}, { credentialsRequired: false })), undefined);
    expect([res.status, res.headers["www-authenticate"]]).toEqual([401, PROOF_INVALID]);
  });

  function unsigned(header: Record<string, unknown>): string {
    const valid = proof();
    const [, payload] = valid.split(".");
    return `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${payload ?? ""}.`;
  }
  function hmacProof(): string {
    // a symmetric "proof": the header names HS256, signed with the access token's own secret
    const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
    const valid = proof();
    const input = `${segment({ typ: "dpop+jwt", alg: "HS256", jwk: key.publicJwk })}.${valid.split(".")[1] ?? ""}`;
    return `${input}.${createHmac("sha256", SECRET).update(input).digest("base64url")}`;
  }
  function privateJwk(): Record<string, unknown> {
    return key.privateKey.export({ format: "jwk" });
  }
  function weakRsaProof(): string {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const weak = { algorithm: "RS256" as const, publicJwk: publicKey.export({ format: "jwk" }), privateKey };
    return dpopProof(weak, { method: "GET", url: URL_ORDERS, accessToken: token });
  }
});

describe("DPoP options are checked at construction", () => {
  it.each<[string, VerifierOptions["dpop"] | Record<string, unknown>, RegExp]>([
    ["no origin", {}, /`dpop.origin` is required/],
    ["an origin with a path", { origin: "https://api.example.test/v1" }, /no path, query or credentials/],
    ["an origin that is not a URL", { origin: "api.example.test" }, /must be an http\(s\) origin/],
    ["an HMAC algorithm", { origin: ORIGIN, algorithms: ["HS256"] }, /"HS256" cannot sign a proof/],
    ["alg none", { origin: ORIGIN, algorithms: ["none"] }, /"none" cannot sign a proof/],
    ["a maxAgeSeconds past 300", { origin: ORIGIN, maxAgeSeconds: 3600 }, /dpop.maxAgeSeconds/],
    ["a short nonce secret", { origin: ORIGIN, nonce: { secret: "short" } }, /at least 32 bytes/],
    ["a store with no add", { origin: ORIGIN, replayStore: {} }, /add\(key, ttlMs\)/],
    ["an unknown option", { origin: ORIGIN, requried: true }, /did you mean `required`/],
  ])("refuses %s", (_case, dpop, message) => {
    const error = thrownBy(() => createVerifier(tokens.options({ dpop: dpop as VerifierOptions["dpop"] })));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it("refuses dpop with getToken, and clientCertificate without certificateBound", () => {
    const withGetToken = thrownBy(() =>
      createVerifier(tokens.options({ dpop: { origin: ORIGIN }, getToken: () => undefined })),
    );
    expect((withGetToken as Error).message).toMatch(/not with `getToken`/);
    const certificate = thrownBy(() => createVerifier(tokens.options({ clientCertificate: () => undefined })));
    expect((certificate as Error).message).toMatch(/set `certificateBound: true`/);
  });
});

describe("a protected resource that takes DPoP (RFC 9728 §2)", () => {
  const resource = "https://api.example.test/orders";
  const issuerUrl = "https://auth.example.test";

  it("says in its metadata what the gate does, and names the metadata in the DPoP challenge", async () => {
    const gate = expressGate.requireToken({
      issuerUrl,
      resource,
      dpop: { origin: ORIGIN, required: true, algorithms: ["ES256", "EdDSA"] },
      certificateBound: true,
    });
    const app = express().use(expressGate.protectedResourceMetadata(gate)).use(gate);
    const document = await request(app).get("/.well-known/oauth-protected-resource/orders");
    expect(document.body).toMatchObject({
      resource,
      dpop_signing_alg_values_supported: ["ES256", "EdDSA"],
      dpop_bound_access_tokens_required: true,
      tls_client_certificate_bound_access_tokens: true,
    });
    const refused = await request(app).get("/orders");
    expect([refused.status, refused.headers["www-authenticate"]]).toEqual([
      401,
      `DPoP resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/orders", algs="ES256 EdDSA"`,
    ]);
  });

  it("refuses metadata that says otherwise than the gate's options", () => {
    const error = thrownBy(() =>
      createVerifier({
        issuerUrl,
        resource,
        dpop: { origin: ORIGIN },
        resourceMetadata: { dpopBoundAccessTokensRequired: true },
      }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/`resourceMetadata.dpopBoundAccessTokensRequired` says true/);
  });
});
