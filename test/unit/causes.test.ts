import { createVerifier, type TokenError } from "bearer-gate";
import { rejectionOf } from "../helpers.js";
import { JwksServer, makeKey } from "../fixtures/jwks-server.js";
import { fixedClock, HMAC_SECRET, NOW, rawToken, roomsAccessClaims, signHmac } from "../fixtures/tokens.js";

// What an attacker puts in a token must reach a log line only quoted and cut: a `kid` or `iss`
// carrying CR/LF would otherwise forge log entries, and a 8 KB one would flood them.
const INJECTED = `x\r\n2026-11-23T00:00:00Z INFO user=admin logged in\r\n${"A".repeat(5000)}`;

/** Every message in the error's cause chain. */
function causeMessages(error: TokenError): string[] {
  const messages: string[] = [];
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
  return messages;
}

let server: JwksServer;
beforeAll(async () => {
  server = await JwksServer.start([makeKey()]);
});
afterAll(() => server.close());

describe("causes of a refusal, for logs", () => {
  const hmac = createVerifier({ secret: HMAC_SECRET, issuer: "Rooms-API-Internal-Access", clock: fixedClock });
  const jwks = (): ReturnType<typeof createVerifier> => createVerifier({ jwksUri: server.jwksUri, clock: fixedClock });

  it.each<[string, () => Promise<unknown>, string]>([
    ["an alg", () => hmac.verifyToken(rawToken({ alg: INJECTED }, { exp: NOW + 60 })), "algorithm_not_allowed"],
    ["an iss", () => hmac.verifyToken(signHmac(roomsAccessClaims({ iss: INJECTED }))), "wrong_issuer"],
    ["a kid", () => jwks().verifyToken(rawToken({ alg: "RS256", kid: INJECTED }, { exp: NOW + 60 })), "unknown_key"],
    ["a payload that is not JSON", () => hmac.verifyToken(rawToken({ alg: "HS256" }, INJECTED)), "malformed_token"],
  ])("quote %s and cut it short: no CR/LF, no flood", async (_what, attempt, reason) => {
    const refused = await rejectionOf(attempt());
    expect(refused.reason).toBe(reason);
    const messages = causeMessages(refused);
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) {
      expect(message).not.toMatch(/[\r\n]/);
      expect(message.length).toBeLessThan(200);
    }
  });

  it("still says which value it was, quoted", async () => {
    const refused = await rejectionOf(hmac.verifyToken(signHmac(roomsAccessClaims({ iss: "Some\nOne" }))));
    expect(causeMessages(refused)).toEqual(['iss "Some\\nOne" is not allowed']);
  });
});
