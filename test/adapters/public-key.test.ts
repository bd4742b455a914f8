import type { RequestListener } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import request from "supertest";
import type { VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { BODY_450 } from "../fixtures/catalogue.js";
import { keyPairFor, signAs } from "../fixtures/keys.js";
import { roomsAccessClaims } from "../fixtures/tokens.js";

// publicKey (no key server) and profile: "rfc9068" through real HTTP on Express 5/4 and Koa 3/2.

type MakeApp = (options: VerifierOptions) => RequestListener;
const expressApp =
  (factory: typeof express): MakeApp =>
  (options) =>
    factory()
      .use(expressGate.requireToken(options))
      .get("/", (req, res) => void res.json({ sub: req.auth.claims.sub ?? null }));
const koaApp =
  (Framework: typeof Koa): MakeApp =>
  (options) => {
    const callback = new Framework()
      .use(koaGate.requireToken(options))
      .use((ctx) => {
        ctx.body = { sub: ctx.state.auth.claims.sub ?? null };
      })
      .callback();
    return (req, res) => void callback(req, res);
  };

const ed25519 = keyPairFor("EdDSA");
const es256 = keyPairFor("ES256");
const claims = roomsAccessClaims({
  exp: Math.floor(Date.now() / 1000) + 600,
  iat: Math.floor(Date.now() / 1000),
  sub: "u-2",
});

describe.each<[string, MakeApp]>([
  ["Express 5", expressApp(express)],
  ["Express 4", expressApp(express4)],
  ["Koa 3", koaApp(Koa)],
  ["Koa 2", koaApp(Koa2)],
])("%s", (_name, makeApp) => {
  const get = (app: RequestListener, token: string) => request(app).get("/").set("Authorization", `Bearer ${token}`);

  it("verifies EdDSA and ES256 tokens with public keys given as a PEM and a JWK list, no key server", async () => {
    const pem = makeApp({ publicKey: ed25519.publicKey.export({ format: "pem", type: "spki" }) as string });
    expect([(await get(pem, signAs("EdDSA", ed25519.privateKey, claims))).status]).toEqual([200]);
    const list = makeApp({
      publicKey: [
        { ...ed25519.publicKey.export({ format: "jwk" }), kid: "ed" },
        { ...es256.publicKey.export({ format: "jwk" }), kid: "ec" },
      ],
    });
    for (const [alg, key, kid] of [
      ["EdDSA", ed25519.privateKey, "ed"],
      ["ES256", es256.privateKey, "ec"],
    ] as const) {
      const res = await get(list, signAs(alg, key, claims, { kid }));
      expect([res.status, res.body]).toEqual([200, { sub: "u-2" }]);
    }
    const forged = await get(list, signAs("ES256", keyPairFor("ES256").privateKey, claims, { kid: "ec" }));
    expect([forged.status, forged.text]).toEqual([401, BODY_450]);
  });

  it('with profile: "rfc9068", takes at+jwt tokens only', async () => {
    const app = makeApp({ publicKey: es256.publicKey, profile: "rfc9068" });
    const full = { ...claims, aud: "api", client_id: "web" };
    expect((await get(app, signAs("ES256", es256.privateKey, full, { typ: "at+jwt" }))).status).toBe(200);
    const plain = await get(app, signAs("ES256", es256.privateKey, full, { typ: "JWT" }));
    expect([plain.status, plain.headers["www-authenticate"]]).toEqual([
      401,
      'Bearer error="invalid_token", error_description="The token is not an access token"',
    ]);
  });
});
