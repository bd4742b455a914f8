import http from "node:http";
import https from "node:https";

/** Limits on one key-set download. */
export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/**
 * GETs a JSON document with a deadline for the whole exchange (not just an idle socket), a cap on
 * the bytes read, and no redirects: a key set is served where it was configured, or not at all.
 */
export function fetchJson(uri: string, limits: FetchLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const url = new URL(uri);
    const client = url.protocol === "https:" ? https : http;
    const request = client.get(url, { agent: false, headers: { accept: "application/json" } });
    const fail = (error: Error): void => {
      request.destroy(error);
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`no complete answer from ${url.origin} within ${limits.timeoutMs} ms`)),
      limits.timeoutMs,
    );
    timer.unref();
    request.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.on("response", (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        return fail(
          Object.assign(new Error(`${url.href} answered HTTP ${String(response.statusCode)}`), {
            status: response.statusCode,
          }),
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxResponseBytes) {
          return fail(new Error(`the answer of ${url.href} is larger than ${limits.maxResponseBytes} bytes`));
        }
        chunks.push(chunk);
      });
      response.on("error", fail);
      response.on("close", () => {
        if (!response.complete) fail(new Error(`the answer of ${url.href} was cut off`));
      });
      response.on("end", () => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  });
}
