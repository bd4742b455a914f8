import type { RequestListener } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import request from "supertest";
import { ConfigError, createVerifier, type AuthContext, type VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { body403, BODY_401, BODY_450, BODY_980 } from "../fixtures/catalogue.js";
import { fixedClock, HMAC_SECRET, NOW, signHmac } from "../fixtures/tokens.js";
import { rejectionOf, thrownBy } from "../helpers.js";

// The claim shapes of the big providers, as their access tokens carry them (HS256 here: the shape is
// what is tested), read through scopeClaim / groupsClaim paths and checked by the route guards.
const KEYCLOAK = {
  iss: "https://sso.example.com/realms/shop",
  sub: "f:1b9c:alice",
  azp: "shop-web",
  scope: "openid profile orders",
  realm_access: { roles: ["offline_access", "admin"] },
  resource_access: { "shop-api": { roles: ["orders:write"] }, account: { roles: ["view-profile"] } },
};
const ENTRA = {
  iss: "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
  sub: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
  tid: "9188040d-6c67-4c5b-b112-36a304b66dad",
  azp: "6e74172b-be56-4843-9ff4-e66a39bb12e3",
  scp: "Orders.Read Orders.Write",
  roles: ["Orders.Admin"],
};
const AUTH0 = {
  iss: "https://shop.eu.auth0.com/",
  sub: "auth0|6482",
  azp: "Yb1kP4",
  scope: "openid",
  permissions: ["read:orders", "write:orders"],
  "https://shop.example.com/roles": ["support"],
  "https://shop.example.com/tenant": "acme",
};
const OKTA = {
  iss: "https://shop.okta.com/oauth2/default",
  sub: "00uid4BxXw6I6TV4m0g3",
  cid: "0oa9x",
  scp: ["orders.read", "openid"],
  groups: ["Everyone", "Support"],
};
const token = (claims: Record<string, unknown>): string =>
  signHmac({ aud: "api://shop", exp: NOW + 600, iat: NOW, ...claims });
const base: VerifierOptions = { secret: HMAC_SECRET, audience: "api://shop", clock: fixedClock };

describe("scopeClaim and groupsClaim follow each provider's shape", () => {
  it.each<[string, Record<string, unknown>, VerifierOptions, readonly string[], readonly string[]]>([
    [
      "Keycloak realm roles",
      KEYCLOAK,
      { groupsClaim: "realm_access.roles" },
      ["openid", "profile", "orders"],
      ["offline_access", "admin"],
    ],
    [
      "Keycloak client roles",
      KEYCLOAK,
      { groupsClaim: "resource_access.shop-api.roles" },
      ["openid", "profile", "orders"],
      ["orders:write"],
    ],
    ["Entra ID", ENTRA, { scopeClaim: "scp", groupsClaim: "roles" }, ["Orders.Read", "Orders.Write"], ["Orders.Admin"]],
    [
      "Auth0",
      AUTH0,
      { scopeClaim: "permissions", groupsClaim: ["https://shop.example.com/roles"] },
      ["read:orders", "write:orders"],
      ["support"],
    ],
    ["Okta", OKTA, { scopeClaim: "scp", groupsClaim: "groups" }, ["orders.read", "openid"], ["Everyone", "Support"]],
  ])("%s", async (_provider, claims, options, scopes, groups) => {
    const auth = await createVerifier({ ...base, ...options }).verify(`Bearer ${token(claims)}`);
    expect([auth.scopes, auth.groups]).toEqual([scopes, groups]);
  });

  it("finds no groups where a path leads nowhere, and refuses a claim of the wrong type there", async () => {
    const verifier = createVerifier({ ...base, groupsClaim: "realm_access.roles" });
    expect((await verifier.verify(`Bearer ${token({ realm_access: "admin roles" })}`)).groups).toEqual([]);
    expect((await verifier.verify(`Bearer ${token({ realm_access: ["x"] })}`)).groups).toEqual([]);
    expect((await verifier.verify(`Bearer ${token({})}`)).groups).toEqual([]);
    const error = await rejectionOf(verifier.verify(`Bearer ${token({ realm_access: { roles: 7 } })}`));
    expect(error.reason).toBe("malformed_token");
  });

  it("never walks into a prototype", async () => {
    const verifier = createVerifier({ ...base, groupsClaim: "__proto__.roles", scopeClaim: "constructor.name" });
    const auth = await verifier.verify(`Bearer ${token({})}`);
    expect([auth.scopes, auth.groups]).toEqual([[], []]);
  });

  it.each([
    ["a URL as a string (its dots are its name)", "https://shop.example.com/roles", /give it as a list/],
    ["an empty step", "realm_access..roles", /dotted path/],
    ["an empty list", [], /a list of keys/],
    ["a number", 7, /a list of keys/],
  ])("refuses %s at start-up", (_case, groupsClaim, message) => {
    const error = thrownBy(() => createVerifier({ ...base, groupsClaim: groupsClaim as string }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it("getGroups finds groups on the server, on every request, beside the token's scopes", async () => {
    const seen: unknown[] = [];
    const verifier = createVerifier({
      ...base,
      getGroups: (claims) => (seen.push(claims.sub), Promise.resolve(claims.sub === "u1" ? ["admins"] : "a,b")),
    });
    const first = await verifier.verify(`Bearer ${token({ sub: "u1", scope: "x" })}`);
    const second = await verifier.verify(`Bearer ${token({ sub: "u2" })}`);
    expect([first.groups, first.scopes, second.groups, seen]).toEqual([["admins"], ["x"], ["a", "b"], ["u1", "u2"]]);
    const broken = createVerifier({ ...base, getGroups: () => 7 as unknown as string });
    const error = await rejectionOf(broken.verify(`Bearer ${token({})}`));
    expect([error.reason, (error.cause as Error).message]).toEqual([
      "internal_error",
      "getGroups returned number, not a list or a delimited string",
    ]);
  });
});

interface App {
  readonly listener: RequestListener;
  readonly handled: AuthContext[];
}
type MakeApp = (options: VerifierOptions, guards: readonly unknown[][]) => App;

function expressApp(factory: typeof express): MakeApp {
  return (options, guards) => {
    const handled: AuthContext[] = [];
    const app = factory().use(expressGate.requireToken(options));
    for (const [name, ...args] of guards) {
      app.use(
        name === "requireClaim"
          ? expressGate.requireClaim(...(args as Parameters<typeof expressGate.requireClaim>))
          : expressGate.requireGroup(...(args as string[])),
      );
    }
    app.use((req, res) => (handled.push(req.auth), res.json({ ok: true })));
    return { listener: app, handled };
  };
}

function koaApp(Framework: typeof Koa): MakeApp {
  return (options, guards) => {
    const handled: AuthContext[] = [];
    const app = new Framework();
    app.use(koaGate.requireToken(options));
    for (const [name, ...args] of guards) {
      app.use(
        name === "requireClaim"
          ? koaGate.requireClaim(...(args as Parameters<typeof koaGate.requireClaim>))
          : koaGate.requireGroup(...(args as string[])),
      );
    }
    app.use((ctx) => {
      handled.push(ctx.state.auth);
      ctx.body = { ok: true };
    });
    const callback = app.callback();
    return { listener: (req, res) => void callback(req, res), handled };
  };
}

const APPS: [string, MakeApp][] = [
  ["Express 5", expressApp(express)],
  ["Express 4", expressApp(express4)],
  ["Koa 3", koaApp(Koa)],
  ["Koa 2", koaApp(Koa2)],
];

const CLAIM_CHALLENGE =
  'Bearer error="insufficient_scope", error_description="The access token lacks a claim value the route requires"';

describe.each(APPS)("requireClaim and provider groups on %s", (_name, makeApp) => {
  const call = (app: App, claims: Record<string, unknown>) =>
    request(app.listener)
      .get("/")
      .set("Authorization", `Bearer ${token(claims)}`);

  it.each<[string, readonly unknown[], Record<string, unknown>, boolean]>([
    ["a value, on a string claim", ["tid", ENTRA.tid], ENTRA, true],
    ["a value, another tenant", ["tid", ENTRA.tid], { ...ENTRA, tid: "another" }, false],
    ["a value, held by a list claim", ["realm_access.roles", "admin"], KEYCLOAK, true],
    ["a list of values (any)", ["groups", ["Admins", "Support"]], OKTA, true],
    ["a list of values, none held", ["groups", ["Admins"]], OKTA, false],
    ["a namespaced claim, as a list of keys", [["https://shop.example.com/tenant"], "acme"], AUTH0, true],
    ["a number", ["acr_level", 2], { acr_level: 2 }, true],
    ["a boolean, not its string", ["email_verified", true], { email_verified: "true" }, false],
    ["a missing claim", ["tid", "x"], KEYCLOAK, false],
    [
      "a predicate",
      ["resource_access", (value: unknown) => typeof value === "object" && value !== null && "shop-api" in value],
      KEYCLOAK,
      true,
    ],
    [
      "a predicate that says no",
      ["sub", (_v: unknown, claims: { azp?: unknown }) => claims.azp === "other"],
      KEYCLOAK,
      false,
    ],
  ])("%s", async (_case, args, claims, allowed) => {
    const app = makeApp(base, [["requireClaim", ...args]]);
    const res = await call(app, claims);
    const shown = Array.isArray(args[0]) ? (args[0] as string[]).join(".") : (args[0] as string);
    if (allowed) expect(res.status).toBe(200);
    else {
      expect([res.status, res.text, res.headers["www-authenticate"]]).toEqual([403, body403(shown), CLAIM_CHALLENGE]);
      expect(app.handled).toHaveLength(0);
    }
  });

  it("a predicate that answers anything but a boolean is a 980, never a pass", async () => {
    const app = makeApp(base, [["requireClaim", "tid", () => "yes"]]);
    const res = await call(app, ENTRA);
    expect([res.status, res.text]).toEqual([503, BODY_980]);
    expect(app.handled).toHaveLength(0);
  });

  it("without requireToken before it, answers 401", async () => {
    const guardOnly = express().use(expressGate.requireClaim("tid", "x"));
    expect((await request(guardOnly).get("/")).text).toBe(BODY_401);
  });

  it("requireGroup reads Keycloak's realm roles through groupsClaim", async () => {
    const app = makeApp({ ...base, groupsClaim: "realm_access.roles" }, [["requireGroup", "admin"]]);
    expect((await call(app, KEYCLOAK)).status).toBe(200);
    const refused = await call(app, { ...KEYCLOAK, realm_access: { roles: ["user"] } });
    expect([refused.status, refused.text]).toEqual([403, body403("admin")]);
  });
});

describe("requireClaim is checked at start-up", () => {
  it.each([
    ["no value", ["tid"]],
    ["an empty list", ["tid", []]],
    ["an object", ["tid", { a: 1 }]],
    ["NaN", ["tid", Number.NaN]],
    ["an empty name", ["", "x"]],
    ["a URL name as a string", ["https://shop.example.com/tenant", "acme"]],
  ])("refuses %s", (_case, args) => {
    const [name, matcher] = args as Parameters<typeof expressGate.requireClaim>;
    for (const make of [expressGate.requireClaim, koaGate.requireClaim]) {
      expect(thrownBy(() => make(name, matcher))).toBeInstanceOf(ConfigError);
    }
  });

  it("names the claim in the refusal's params, and 450 tells the client its token will not do", async () => {
    const app = makeAppOnce();
    const res = await request(app)
      .get("/")
      .set("Authorization", `Bearer ${token({ tid: "t2" })}`);
    const { error } = JSON.parse(BODY_450) as { error: object };
    expect(JSON.parse(res.text)).toEqual({ error: { ...error, params: ["tid"] } });
  });

  function makeAppOnce() {
    return express()
      .use(expressGate.requireToken(base))
      .use(expressGate.requireClaim("tid", "t1"))
      .get("/", (_req, res) => res.json({}));
  }
});
