import type { RequestListener } from "node:http";
import type { VerifierOptions } from "bearer-gate";
import { JwksServer, makeKey, type TestKey } from "../fixtures/jwks-server.js";
import {
  BODY_400,
  BODY_401,
  BODY_450,
  BODY_980,
  body403,
  INVALID_REQUEST,
  invalid,
  SCOPE,
  TOO_LONG,
} from "../fixtures/catalogue.js";
import { SEED_COGNITO_ACCESS_TOKEN, SEED_POOL_ID } from "../fixtures/seeds.js";
import {
  CLIENT_ID,
  cognitoAccessClaims,
  cognitoIdClaims,
  fixedClock,
  NOW,
  rawToken,
  signRs256,
} from "../fixtures/tokens.js";

export const POOL_ISSUER = `https://cognito-idp.sa-east-1.amazonaws.com/${SEED_POOL_ID}`;

/** The routes every app under test has: `/` (no guard), `/posts`, `/camps` (all), `/feed` (any). */
export const GUARDS = {
  "/posts": { mode: "all", scopes: ["posts"] },
  "/camps": { mode: "all", scopes: ["camps", "users"] },
  "/feed": { mode: "any", scopes: ["camps", "admin"] },
} as const;

/** What one row of the table needs from its test file. */
export interface CaseWorld {
  readonly server: JwksServer;
  readonly key: TestKey;
  /** A key server of the attacker's, which no request may ever reach. */
  readonly attacker: JwksServer;
  readonly attackerKey: TestKey;
  /** Options pointing at the local key server, with the revocation and claim rules the rows use. */
  readonly options: VerifierOptions;
}

export interface Case {
  readonly name: string;
  readonly path?: string;
  /** The Authorization header; a list sends it several times. */
  readonly authorization: (world: CaseWorld) => string | string[] | undefined;
  readonly status: number;
  readonly body: string;
  readonly challenge: string | undefined;
  /** Options to use instead of the world's. */
  readonly options?: (world: CaseWorld) => VerifierOptions;
}

/** A valid token for the world's key, with these claims changed. */
export function tokenFor(world: CaseWorld, claims: Record<string, unknown> = {}, header = {}): string {
  return `Bearer ${signRs256(cognitoAccessClaims(POOL_ISSUER, { tenant: "acme", ...claims }), world.key, header)}`;
}

export function worldOptions(server: JwksServer): VerifierOptions {
  return {
    cognito: { userPoolId: SEED_POOL_ID, clientId: CLIENT_ID },
    jwksUri: server.jwksUri,
    clock: fixedClock,
    requiredClaims: { tenant: "acme" },
    isRevoked: (claims) => {
      if (claims.jti === "explode") throw new Error("revocation store down: secret detail");
      return claims.jti === "revoked";
    },
  };
}

/** Every row of the catalogue and every reason, as a request and the exact response it gets. */
export const CASES: readonly Case[] = [
  { name: "no Authorization header", authorization: () => undefined, status: 401, body: BODY_401, challenge: "Bearer" },
  {
    name: "another scheme",
    authorization: () => "Basic dXNlcjpwYXNz",
    status: 401,
    body: BODY_400,
    challenge: INVALID_REQUEST,
  },
  { name: "Bearer alone", authorization: () => "Bearer", status: 401, body: BODY_400, challenge: INVALID_REQUEST },
  {
    name: "two tokens",
    authorization: (w) => `${tokenFor(w)} ${tokenFor(w).slice(7)}`,
    status: 401,
    body: BODY_400,
    challenge: INVALID_REQUEST,
  },
  {
    name: "a token with characters outside base64url",
    authorization: () => "Bearer abc$def.ghi",
    status: 401,
    body: BODY_400,
    challenge: INVALID_REQUEST,
  },
  {
    name: "a token over maxTokenLength",
    authorization: () => `Bearer ${"a".repeat(8193)}`,
    status: 401,
    body: BODY_400,
    challenge: TOO_LONG,
  },
  {
    name: "a malformed token",
    authorization: () => "Bearer abc.def",
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token is malformed"),
  },
  {
    name: "an expired token",
    authorization: (w) => tokenFor(w, { exp: NOW - 1 }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token expired"),
  },
  {
    name: "a token not valid yet",
    authorization: (w) => tokenFor(w, { nbf: NOW + 60 }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token is not valid yet"),
  },
  {
    name: "a badly signed token",
    authorization: (w) => tokenFor(w).slice(0, -4) + "AAAA",
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token signature is invalid"),
  },
  {
    name: "a token signed with an unknown key",
    authorization: (w) => tokenFor(w, {}, { kid: "not-in-the-set" }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token is signed with an unknown key"),
  },
  {
    name: "an alg none token",
    authorization: () => `Bearer ${rawToken({ alg: "none" }, cognitoAccessClaims(POOL_ISSUER), "")}`,
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token is signed with an algorithm that is not allowed"),
  },
  {
    name: "a token from another issuer",
    authorization: (w) => tokenFor(w, { iss: "https://evil.example" }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token comes from another issuer"),
  },
  {
    name: "a token for another app client",
    authorization: (w) => tokenFor(w, { client_id: "other" }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token is meant for another audience"),
  },
  {
    name: "an ID token",
    authorization: (w) => `Bearer ${signRs256(cognitoIdClaims(POOL_ISSUER, { tenant: "acme" }), w.key)}`,
    status: 401,
    body: BODY_450,
    challenge: invalid("The token is not an access token"),
  },
  {
    name: "a refresh-typed token",
    authorization: (w) => tokenFor(w, { token_type: "refresh" }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The token is not an access token"),
  },
  {
    name: "a token failing a required claim",
    authorization: (w) => tokenFor(w, { tenant: "other" }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token does not carry a required claim"),
  },
  {
    name: "a revoked token",
    authorization: (w) => tokenFor(w, { jti: "revoked" }),
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token was revoked"),
  },
  {
    name: "the seed's Cognito access token",
    authorization: () => `Bearer ${SEED_COGNITO_ACCESS_TOKEN}`,
    status: 401,
    body: BODY_450,
    challenge: invalid("The access token is signed with an unknown key"),
  },
  {
    name: "a token lacking the route's scope",
    path: "/posts",
    authorization: (w) => tokenFor(w, { scope: "users" }),
    status: 403,
    body: body403("posts"),
    challenge: SCOPE("posts"),
  },
  {
    name: "a token lacking one of two required scopes",
    path: "/camps",
    authorization: (w) => tokenFor(w, { scope: "users posts" }),
    status: 403,
    body: body403("camps"),
    challenge: SCOPE("camps"),
  },
  {
    name: "a token lacking both required scopes",
    path: "/camps",
    authorization: (w) => tokenFor(w, { scope: "posts" }),
    status: 403,
    body: body403("camps", "users"),
    challenge: SCOPE("camps users"),
  },
  {
    name: "a token with none of the any-of scopes",
    path: "/feed",
    authorization: (w) => tokenFor(w, { scope: "posts" }),
    status: 403,
    body: body403("camps", "admin"),
    challenge: SCOPE("camps admin"),
  },
  {
    name: "a key server that is down",
    authorization: (w) => tokenFor(w),
    options: (w) => ({ ...w.options, jwksUri: "http://127.0.0.1:9/jwks.json" }),
    status: 503,
    body: BODY_980,
    challenge: undefined,
  },
  {
    name: "a key server serving garbage",
    authorization: (w) => tokenFor(w),
    options: (w) => ({ ...w.options, jwksUri: `${w.server.issuer}/garbage` }),
    status: 503,
    body: BODY_980,
    challenge: undefined,
  },
  {
    name: "a getToken hook that throws",
    authorization: (w) => tokenFor(w),
    options: (w) => ({
      ...w.options,
      getToken: () => {
        throw new Error("cookie parser bug");
      },
    }),
    status: 503,
    body: BODY_980,
    challenge: undefined,
  },
  {
    name: "a requiredClaims predicate that throws",
    authorization: (w) => tokenFor(w),
    options: (w) => ({
      ...w.options,
      requiredClaims: {
        tenant: () => {
          throw new Error("predicate bug");
        },
      },
    }),
    status: 503,
    body: BODY_980,
    challenge: undefined,
  },
  {
    name: "an isRevoked hook that throws",
    authorization: (w) => tokenFor(w, { jti: "explode" }),
    status: 503,
    body: BODY_980,
    challenge: undefined,
  },
];

/** Valid requests, and the body the handler answers with. */
export const PASSING: readonly { name: string; path: string; scope: string }[] = [
  { name: "an unguarded route", path: "/", scope: "aws.cognito.signin.user.admin" },
  { name: "a route whose scope the token has", path: "/posts", scope: "posts" },
  { name: "a route needing two scopes the token has", path: "/camps", scope: "users camps" },
  { name: "an any-of route with one scope", path: "/feed", scope: "admin" },
];

export { makeKey, JwksServer };

/** The app-building part each adapter's test file supplies. */
export type MakeApp = (options: Record<string, unknown>, calls: string[]) => RequestListener;
