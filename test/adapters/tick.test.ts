import type { NextFunction, Request, Response } from "express";
import type { Context, Next } from "koa";
import type { AuthContext } from "bearer-gate";
import * as expressGate from "bearer-gate/express";
import * as koaGate from "bearer-gate/koa";
import { BODY_450 } from "../fixtures/catalogue.js";
import { fixedClock, HMAC_SECRET, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";

// A request whose token is known (a cache hit) or whose key is at hand (a secret) goes on in the
// same tick: the middleware makes no promise of its own to wait for. Called directly, with the
// least of a request the adapters read, so the tick is what is observed.
const options = { secret: HMAC_SECRET, clock: fixedClock };
const rawHeaders = (token: string): string[] => ["Host", "127.0.0.1", "Authorization", `Bearer ${token}`];

describe("requireToken goes on in the same tick when nothing has to wait", () => {
  it.each([
    ["a key at hand, first sight", 1],
    ["a cache hit", 2],
  ])("Express: %s", (_case, times) => {
    const middleware = expressGate.requireToken(options);
    const token = signHmac(roomsAccessClaims());
    for (let i = 0; i < times; i++) {
      const req = { rawHeaders: rawHeaders(token) } as unknown as Request;
      const next = jest.fn();
      void middleware(req, { headersSent: false } as unknown as Response, next as NextFunction);
      expect(next).toHaveBeenCalledWith(); // before any promise could settle
      expect(req.auth.claims["uid"]).toBe(2);
    }
  });

  it.each([
    ["a key at hand, first sight", 1],
    ["a cache hit", 2],
  ])("Koa: %s", async (_case, times) => {
    const middleware = koaGate.requireToken(options);
    const token = signHmac(roomsAccessClaims());
    for (let i = 0; i < times; i++) {
      const state: { auth?: AuthContext } = {};
      const ctx = { req: { rawHeaders: rawHeaders(token) }, state, headerSent: false } as unknown as Context;
      const next = jest.fn<Promise<void>, []>(() => Promise.resolve());
      const returned: unknown = middleware(ctx, next as Next);
      expect(next).toHaveBeenCalledTimes(1); // before any promise could settle
      expect(state.auth?.claims["uid"]).toBe(2);
      await returned;
    }
  });

  it("Express: a bad token is answered in the same tick too, and next is not called", () => {
    const middleware = expressGate.requireToken(options);
    const json = jest.fn<undefined, [unknown]>();
    const res = { headersSent: false, status: () => res, set: () => res, json } as unknown as Response;
    const next = jest.fn();
    void middleware({ rawHeaders: rawHeaders("not.a.token") } as unknown as Request, res, next as NextFunction);
    expect(JSON.stringify(json.mock.calls[0]?.[0])).toBe(BODY_450);
    expect(next).not.toHaveBeenCalled();
  });
});
