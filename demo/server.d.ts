import type { Express } from "express";

export interface DemoExample {
  label: string;
  path: string;
  token: string | undefined;
  status: number;
}

export function createDemo(secret?: string): {
  app: Express;
  secret: string;
  tokens: { access: string; expired: string; refresh: string };
  examples: DemoExample[];
};
