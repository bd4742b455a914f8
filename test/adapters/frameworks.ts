import type { RequestListener } from "node:http";
import express from "express";
import express4 from "express4";
import Koa from "koa";
import Koa2 from "koa2";
import type { AuthContext, VerifierOptions } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";

/** An app behind requireToken, and the middleware's ready(). */
export interface Gate {
  readonly app: RequestListener;
  ready(): Promise<void>;
}

/** What an app does past requireToken: an optional scope guard, then a handler answering `answer(auth)`. */
export interface Route {
  readonly scope?: string;
  readonly answer: (auth: AuthContext) => unknown;
}

export type MakeGate = (options: VerifierOptions, route: Route) => Gate;

function expressGateApp(factory: typeof express): MakeGate {
  return (options, { scope, answer }) => {
    const app = factory();
    const gate = expressGate.requireToken(options);
    app.use(gate);
    if (scope !== undefined) app.use(expressGate.requireScope(scope));
    app.use((req, res) => res.json(answer(req.auth)));
    return { app, ready: gate.ready };
  };
}

function koaGateApp(Framework: typeof Koa): MakeGate {
  return (options, { scope, answer }) => {
    const app = new Framework();
    const gate = koaGate.requireToken(options);
    app.use(gate);
    if (scope !== undefined) app.use(koaGate.requireScope(scope));
    app.use((ctx) => {
      ctx.body = answer(ctx.state.auth);
    });
    const callback = app.callback();
    return { app: (req, res) => void callback(req, res), ready: gate.ready };
  };
}

/** Express 5 and 4, Koa 3 and 2: the same app on each. */
export const FRAMEWORKS: readonly [string, MakeGate][] = [
  ["Express 5", expressGateApp(express)],
  ["Express 4", expressGateApp(express4)],
  ["Koa 3", koaGateApp(Koa)],
  ["Koa 2", koaGateApp(Koa2)],
];
