import http from "node:http";
import https from "node:https";
import { displayUrl } from "../errors/text.js";

/** Limits on one key-set download (a discovery document and the key set share one deadline). */
export interface FetchLimits {
  /** When the whole download must be over: a `performance.now()` reading, in ms. */
  readonly deadline: number;
  /** The `timeoutMs` the deadline was set from, for the message when it passes. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/**
 * GETs a JSON document with a deadline for the whole exchange (not just an idle socket), a cap on
 * the bytes read, and no redirects: a key set is served where it was configured, or not at all.
 * Messages show the URL without credentials and never quote the answer's body.
 */
export function fetchJson(uri: string, limits: FetchLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const url = new URL(uri);
    const shown = displayUrl(url);
    const left = limits.deadline - performance.now();
    if (left <= 0) return reject(late(url, limits));
    const client = url.protocol === "https:" ? https : http;
    const request = client.get(url, { agent: false, headers: { accept: "application/json" } });
    const fail = (error: Error): void => {
      request.destroy(error);
      reject(error);
    };
    const timer = setTimeout(() => fail(late(url, limits)), left);
    timer.unref();
    request.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.on("response", (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        return fail(
          Object.assign(new Error(`${shown} answered HTTP ${String(response.statusCode)}`), {
            status: response.statusCode,
          }),
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxResponseBytes) {
          return fail(new Error(`the answer of ${shown} is larger than ${limits.maxResponseBytes} bytes`));
        }
        chunks.push(chunk);
      });
      response.on("error", fail);
      response.on("close", () => {
        if (!response.complete) fail(new Error(`the answer of ${shown} was cut off`));
      });
      response.on("end", () => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch {
          // not JSON.parse's own error: V8 quotes the body in it, escape sequences and all
          reject(new SyntaxError(`the answer of ${shown} is not JSON`));
        }
      });
    });
  });
}

function late(url: URL, limits: FetchLimits): Error {
  return new Error(`no complete answer from ${displayUrl(url.origin)} within ${limits.timeoutMs} ms`);
}
