import type { Express } from "express";
import type Koa from "koa";

export interface DemoExample {
  label: string;
  path: string;
  token: string | undefined;
  status: number;
  /** Why a refused example is refused. */
  reason?: string;
}

export function createDemo(): Promise<{
  express: { app: Express; examples: DemoExample[] };
  koa: { app: Koa; examples: DemoExample[] };
  close(): Promise<void>;
}>;
