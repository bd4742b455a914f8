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

/** Starts both apps on 127.0.0.1 (Express on `port`, Koa on `port + 1`); resolves to a stop function, or undefined when a port is taken. */
export function start(
  demo: Awaited<ReturnType<typeof createDemo>>,
  port: number | string,
  out?: { log(text: string): void; error(text: string): void },
): Promise<(() => void) | undefined>;
