import { generateKeyPairSync, randomUUID, sign as signWith, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import jwt from "jsonwebtoken";
import type { PublicKeyAlgorithm } from "../src/index.js";

/** The algorithms a test issuer signs with. */
export type TestAlgorithm = Exclude<PublicKeyAlgorithm, "Ed25519" | "Ed448">;

export interface SigningKey {
  readonly kid: string;
  readonly alg: TestAlgorithm;
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}

type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };
const rsa = (): KeyPair => generateKeyPairSync("rsa", { modulusLength: 2048 });
// the key pair each algorithm signs with
export const KEY_PAIRS: Readonly<Record<TestAlgorithm, () => KeyPair>> = {
  RS256: rsa,
  RS384: rsa,
  RS512: rsa,
  PS256: rsa,
  PS384: rsa,
  PS512: rsa,
  ES256: () => generateKeyPairSync("ec", { namedCurve: "P-256" }),
  ES384: () => generateKeyPairSync("ec", { namedCurve: "P-384" }),
  ES512: () => generateKeyPairSync("ec", { namedCurve: "P-521" }),
  EdDSA: () => generateKeyPairSync("ed25519"),
};

export function newKey(alg: TestAlgorithm): SigningKey {
  const { publicKey, privateKey } = KEY_PAIRS[alg]();
  const kid = randomUUID();
  return { kid, alg, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid, alg, use: "sig" } };
}

/** Signs claims with a test key; the header is `{ kid, alg }` (Cognito's), with `typ` when given (RFC 9068's `at+jwt`). */
export function signJwt(key: SigningKey, claims: Record<string, unknown>, typ?: string): string {
  const { alg } = key;
  if (alg === "EdDSA") {
    // jsonwebtoken has no EdDSA: RFC 8037 §3.1, Ed25519 over the signing input as it is
    const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
    const input = `${segment(typ === undefined ? { kid: key.kid, alg } : { kid: key.kid, alg, typ })}.${segment(claims)}`;
    return `${input}.${signWith(null, Buffer.from(input), key.privateKey).toString("base64url")}`;
  }
  // noTimestamp drops an iat the claims leave out on purpose; otherwise jsonwebtoken keeps theirs
  return jwt.sign(claims, key.privateKey, {
    algorithm: alg,
    noTimestamp: claims["iat"] === undefined,
    header: { alg, kid: key.kid, typ },
  });
}

/** A server on 127.0.0.1 answering every GET with the JSON `answer(path)` gives, or 404 for `undefined`. */
export interface KeyServer {
  readonly origin: string;
  /** How many requests it answered. */
  readonly requests: number;
  /** Stops it and drops its connections: no open handles remain. */
  close(): Promise<void>;
}

export async function startKeyServer(answer: (path: string) => unknown): Promise<KeyServer> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests += 1;
    const body = answer((req.url ?? "/").split("?")[0] ?? "/");
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    close: () => {
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
