// Compile-time tests, run by `tsc --noEmit` in npm test (and under the README's consumer project by
// test/docs/readme.test.ts): claims typed by a generic and out of the box for Cognito, and every
// public options type taking `undefined` for an optional field under exactOptionalPropertyTypes.
import express from "express";
import Koa from "koa";
import {
  createRevocationList,
  createMemoryStore,
  createVerifier,
  TokenError,
  type AuthContext,
  type Claims,
  type CognitoClaims,
  type CognitoOptions,
  type JwksFetchOptions,
  type MemoryStoreOptions,
  type RevocationListOptions,
  type TokenCacheOptions,
  type VerifierOptions,
} from "bearer-gate";
import * as ex from "bearer-gate/express";
import * as koa from "bearer-gate/koa";
import type { RedisStoreOptions } from "bearer-gate/redis";
import type {
  CognitoTestClaims,
  HmacTokensOptions,
  TestClaims,
  TestCognitoOptions,
  TestIssuerOptions,
} from "bearer-gate/testing";

const used = (...values: unknown[]): number => values.length;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(verdict: Same<A, B>): Same<A, B> => verdict;

interface Tenant {
  readonly tenant: string;
}
const pool = { userPoolId: "sa-east-1_6ygLpRK0e", clientId: "web" };

// a Cognito verifier's claims are CognitoClaims; any other verifier's, Claims
export async function cognitoTyped(): Promise<void> {
  const auth = await createVerifier({ cognito: pool }).verify("Bearer x");
  same<typeof auth.claims, Claims & CognitoClaims>(true);
  const sub: string = auth.claims.sub;
  const groups: readonly string[] | undefined = auth.claims["cognito:groups"];
  const use: "access" | "id" = auth.claims.token_use;
  // @ts-expect-error: auth_time is a number
  const authTime: string | undefined = auth.claims.auth_time;
  const plain = await createVerifier({ secret: "s".repeat(32) }).verify("Bearer x");
  same<typeof plain.claims, Claims>(true);
  // @ts-expect-error: sub is not known to be there without Cognito
  const plainSub: string = plain.claims.sub;
  used(sub, groups, use, authTime, plainSub);
}

// createVerifier<C>, requireToken<C> and AuthContext<C>: C's claims typed, hooks included
export async function generic(): Promise<void> {
  const verifier = createVerifier<Tenant>({
    secret: "s".repeat(32),
    isRevoked: (claims) => claims.tenant === "banned",
    getScopes: (claims) => (claims.tenant === "acme" ? ["posts"] : []),
  });
  const auth: AuthContext<Tenant> = await verifier.verify("Bearer x");
  const tenant: string = auth.claims.tenant;
  const exp: number = auth.claims.exp;
  // @ts-expect-error: no such claim in Tenant or Claims
  const other: string = auth.claims.other;
  used(tenant, exp, other);

  const gate = ex.requireToken<Tenant>({ secret: "s".repeat(32), onSuccess: (a) => used(a.claims.tenant) });
  express()
    .use(gate)
    .get(
      "/",
      ex.requireUser<Tenant>((claims) => claims.tenant !== ""),
      (req, res) => {
        res.json({ tenant: gate.auth(req).claims.tenant, sub: req.auth.claims.sub });
      },
    );
  const cognitoGate = ex.requireToken({ cognito: pool });
  express().get("/", cognitoGate, (req, res) => {
    const name: string | undefined = cognitoGate.auth(req).claims.username;
    res.json({ name });
  });

  // Koa: app.use(gate) hands the middleware after it the gate's claims
  new Koa().use(koa.requireToken<Tenant>({ secret: "s".repeat(32) })).use((ctx) => {
    const koaTenant: string = ctx.state.auth.claims.tenant;
    ctx.body = koaTenant;
  });
  new Koa().use(koa.requireToken({ cognito: pool })).use((ctx) => {
    const clientId: string | undefined = ctx.state.auth.claims.client_id;
    ctx.body = clientId;
  });
}

// Every optional field of every public options type takes `undefined`
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
type TakesUndefined<T> = { [K in OptionalKeys<T>]: undefined } extends Pick<T, OptionalKeys<T>> ? true : false;
const takesUndefined = <T>(verdict: TakesUndefined<T>): TakesUndefined<T> => verdict;
takesUndefined<VerifierOptions>(true);
takesUndefined<CognitoOptions>(true);
takesUndefined<JwksFetchOptions>(true);
takesUndefined<TokenCacheOptions>(true);
takesUndefined<RevocationListOptions>(true);
takesUndefined<MemoryStoreOptions>(true);
takesUndefined<RedisStoreOptions>(true);
takesUndefined<ex.ExpressOptions>(true);
takesUndefined<koa.KoaOptions>(true);
takesUndefined<TestIssuerOptions>(true);
takesUndefined<TestCognitoOptions>(true);
takesUndefined<HmacTokensOptions>(true);
takesUndefined<TestClaims>(true);
takesUndefined<CognitoTestClaims>(true);
takesUndefined<NonNullable<ConstructorParameters<typeof TokenError>[2]>>(true);
// the check itself can fail: a field that refuses undefined is caught
takesUndefined<{ strict?: string }>(false);

used(createRevocationList, createMemoryStore);
