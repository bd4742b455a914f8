import { createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import fc from "fast-check";
import * as jose from "jose";
import jwt from "jsonwebtoken";
import { createVerifier, TokenError, type Algorithm, type Reason, type Verifier } from "bearer-gate";
import { NOW } from "../fixtures/tokens.js";
import { JwksServer } from "../fixtures/jwks-server.js";
import { keyPairFor, signAs } from "../fixtures/keys.js";

// Two reference verifiers as differential oracles, jsonwebtoken.verify (HS, RS, PS, ES) and
// jose.jwtVerify (every algorithm, EdDSA too): over valid tokens and their mutations, bearer-gate
// never accepts what an oracle rejects (with the same key and algorithm), and accepts what it
// accepts unless one of our stricter rules, listed here, refuses it.
const STRICTER: Readonly<Partial<Record<Reason, string>>> = {
  malformed_token:
    "exp is required; registered claims have their registered types; a crit header is refused; segments are " +
    "canonical base64url (one spelling: no padding, no stray bits in the last character) of UTF-8 JSON objects; " +
    "the scope claim is a string or a list of strings",
  not_yet_valid: "an iat in the future is refused (jsonwebtoken does not judge iat)",
  wrong_token_use:
    "a refresh token (token_type), an ID token (token_use), or a typ that is not an access token's (dpop+jwt, " +
    "logout+jwt, ...) never opens an access-token route",
};

const ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "PS256", "ES256", "EdDSA", "none", "hs256", "RS256 "];
const TYPS = ["JWT", "at+jwt", "application/at+jwt", "dpop+jwt", "logout+jwt", "secevent+jwt", "JOSE"];

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64url");
const unb64 = (segment: string): string => Buffer.from(segment, "base64url").toString("utf8");
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// mostly valid claims, sometimes odd ones, so both sides of every rule are exercised
const claimsArb = fc.record(
  {
    sub: fc.oneof(fc.string(), fc.integer()),
    exp: fc.oneof({ arbitrary: fc.integer({ min: NOW + 1, max: NOW + 86_400 }), weight: 8 }, fc.constant(NOW - 5)),
    iat: fc.oneof({ arbitrary: fc.integer({ min: NOW - 86_400, max: NOW }), weight: 8 }, fc.constant(NOW + 60)),
    nbf: fc.oneof(fc.integer({ min: NOW - 100, max: NOW }), fc.constant(NOW + 30)),
    scope: fc.oneof(fc.constant("posts users"), fc.array(fc.string()), fc.integer()),
    token_type: fc.constantFrom("access", "refresh"),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

type Mutation =
  | { kind: "none" }
  | { kind: "flip"; segment: 0 | 1 | 2; at: number; to: number }
  | { kind: "alg"; alg: string }
  | { kind: "crit" }
  | { kind: "reencode"; segment: 0 | 1 | 2; how: "padding" | "base64" }
  | { kind: "respell"; segment: 0 | 1 | 2; bits: number }
  | { kind: "typ"; typ: string }
  | { kind: "extra"; where: "end" | "start" | "dot"; text: string }
  | { kind: "swapKey" };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.constant({ kind: "none" as const }), weight: 4 },
  fc.record({
    kind: fc.constant("flip" as const),
    segment: fc.constantFrom(0 as const, 1 as const, 2 as const),
    at: fc.nat(),
    to: fc.nat({ max: 63 }),
  }),
  fc.record({ kind: fc.constant("alg" as const), alg: fc.constantFrom(...ALGS) }),
  fc.constant({ kind: "crit" as const }),
  fc.record({
    kind: fc.constant("reencode" as const),
    segment: fc.constantFrom(0 as const, 1 as const, 2 as const),
    how: fc.constantFrom("padding" as const, "base64" as const),
  }),
  fc.record({
    kind: fc.constant("respell" as const),
    segment: fc.constantFrom(0 as const, 1 as const, 2 as const),
    bits: fc.integer({ min: 1, max: 15 }),
  }),
  fc.record({ kind: fc.constant("typ" as const), typ: fc.constantFrom(...TYPS) }),
  fc.record({
    kind: fc.constant("extra" as const),
    where: fc.constantFrom("end" as const, "start" as const, "dot" as const),
    text: fc.constantFrom("=", ".", " ", "\n", "x", "==", ".x"),
  }),
  fc.constant({ kind: "swapKey" as const }),
);

/** How one family signs: with its own key, or with another key of the same kind (a forgery). */
interface Signer {
  readonly alg: Algorithm;
  sign(claims: object, header?: Record<string, unknown>): string;
  signWithOtherKey(claims: object): string;
}

function mutate(token: string, mutation: Mutation, signer: Signer, claims: object): string {
  const parts = token.split(".") as [string, string, string];
  switch (mutation.kind) {
    case "none":
      return token;
    case "flip": {
      const segment = parts[mutation.segment];
      if (segment.length === 0) return token;
      const at = mutation.at % segment.length;
      parts[mutation.segment] = segment.slice(0, at) + B64URL[mutation.to]! + segment.slice(at + 1);
      return parts.join(".");
    }
    case "alg":
    case "crit": {
      const header = JSON.parse(unb64(parts[0])) as Record<string, unknown>;
      if (mutation.kind === "alg") header["alg"] = mutation.alg;
      else header["crit"] = ["exp"];
      // the signature is left as it was: only the header differs
      parts[0] = b64(JSON.stringify(header));
      return parts.join(".");
    }
    case "reencode": {
      const bytes = Buffer.from(parts[mutation.segment], "base64url");
      parts[mutation.segment] =
        mutation.how === "base64" ? bytes.toString("base64").replace(/=+$/, "") : bytes.toString("base64");
      return parts.join(".");
    }
    case "respell": {
      // the same bytes, spelt with the last character's unused bits set (when it has any)
      const segment = parts[mutation.segment];
      const unused = segment.length % 4 === 2 ? 15 : segment.length % 4 === 3 ? 3 : 0;
      if ((mutation.bits & unused) === 0) return token;
      const last = B64URL.indexOf(segment.at(-1)!);
      parts[mutation.segment] = segment.slice(0, -1) + B64URL[last | (mutation.bits & unused)]!;
      return parts.join(".");
    }
    case "typ":
      return signer.sign(claims, { typ: mutation.typ }); // a proper signature over the new header
    case "extra":
      if (mutation.where === "end") return token + mutation.text;
      if (mutation.where === "start") return mutation.text + token;
      return `${parts[0]}.${mutation.text}${parts[1]}.${parts[2]}`;
    case "swapKey":
      return signer.signWithOtherKey(claims);
  }
}

type Oracle = (token: string) => Promise<boolean>;

async function ours(verifier: Verifier, token: string): Promise<Reason | "accepted"> {
  try {
    await verifier.verifyToken(token);
    return "accepted";
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    return error.reason;
  }
}

const SEED = Number(process.env["FC_SEED"] ?? 20_261_201);

async function compare(verifier: Verifier, signer: Signer, oracle: Oracle, numRuns: number): Promise<void> {
  const seen = { both: 0, neither: 0, stricter: 0 };
  await fc.assert(
    fc.asyncProperty(claimsArb, mutationArb, async (claims, mutation) => {
      const token = mutate(signer.sign(claims), mutation, signer, claims);
      const accepted = await oracle(token);
      const answer = await ours(verifier, token);
      if (answer === "accepted") {
        expect({ token, accepted }).toEqual({ token, accepted: true });
        seen.both += 1;
      } else if (accepted) {
        expect(Object.keys(STRICTER)).toContain(answer);
        seen.stricter += 1;
      } else {
        seen.neither += 1;
      }
    }),
    // one seed, so CI sees the same tokens every run (a rare outcome met twice in one run and three
    // times in the next failed the count below); FC_SEED=<n> explores others
    { numRuns, seed: SEED },
  );
  // every outcome was met, so the property says something
  expect(Math.min(seen.both, seen.neither, seen.stricter)).toBeGreaterThan(numRuns / 100);
}

const SECRET = "a-secret-for-the-differential-oracle-that-is-64-bytes-long!!!!!";
const OTHER_SECRET = "another-secret-for-the-oracle-test-that-is-64-bytes-long-too!!!";
const FAMILIES: readonly Algorithm[] = ["HS256", "RS256", "PS256", "ES256", "EdDSA"];
const PAIRS = new Map(FAMILIES.map((alg) => [alg, keyPairFor(alg)]));
const OTHER_PAIRS = new Map(FAMILIES.map((alg) => [alg, keyPairFor(alg)]));

function signerFor(alg: Algorithm): Signer {
  const key = (pairs: typeof PAIRS, secret: string): string | KeyObject =>
    alg.startsWith("HS") ? secret : pairs.get(alg)!.privateKey;
  return {
    alg,
    sign: (claims, header = {}) => signAs(alg, key(PAIRS, SECRET), claims as Record<string, unknown>, header),
    signWithOtherKey: (claims) => signAs(alg, key(OTHER_PAIRS, OTHER_SECRET), claims as Record<string, unknown>),
  };
}

// jsonwebtoken.verify with this one key and algorithm, at the tests' fixed clock
function jsonwebtokenOracle(key: string | KeyObject, alg: Algorithm): Oracle {
  return (token) => {
    try {
      jwt.verify(token, key, { algorithms: [alg as jwt.Algorithm], clockTimestamp: NOW });
      return Promise.resolve(true);
    } catch {
      return Promise.resolve(false);
    }
  };
}

function verifierFor(alg: Algorithm): Verifier {
  // the same key and the one algorithm for both; no issuer or audience (the oracles are given none)
  const common = { algorithms: [alg], clock: () => NOW * 1000, tokenCache: false as const };
  return createVerifier(
    alg.startsWith("HS") ? { secret: SECRET, ...common } : { publicKey: PAIRS.get(alg)!.publicKey, ...common },
  );
}

describe.each<[Algorithm, number]>([
  ["HS256", 1500],
  ["RS256", 300],
  ["PS256", 200],
  ["ES256", 300],
])("bearer-gate against jsonwebtoken.verify, %s", (alg, numRuns) => {
  it("never accepts what the oracle rejects, and refuses what it accepts only by a listed stricter rule", async () => {
    const key = alg.startsWith("HS") ? SECRET : PAIRS.get(alg)!.publicKey;
    await compare(verifierFor(alg), signerFor(alg), jsonwebtokenOracle(key, alg), numRuns);
  }, 60_000);
});

describe.each<[Algorithm, number]>([
  ["HS256", 800],
  ["RS256", 200],
  ["PS256", 200],
  ["ES256", 300],
  ["EdDSA", 400],
])("bearer-gate against jose.jwtVerify, %s", (alg, numRuns) => {
  it("never accepts what the oracle rejects, and refuses what it accepts only by a listed stricter rule", async () => {
    const key = alg.startsWith("HS") ? createSecretKey(Buffer.from(SECRET)) : PAIRS.get(alg)!.publicKey;
    const oracle: Oracle = (token) =>
      jose.jwtVerify(token, key, { algorithms: [alg], currentDate: new Date(NOW * 1000) }).then(
        () => true,
        () => false,
      );
    await compare(verifierFor(alg), signerFor(alg), oracle, numRuns);
  }, 60_000);
});

describe("the key set path against jsonwebtoken.verify, RS256", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  let jwks: JwksServer;
  beforeAll(async () => {
    const jwk = {
      ...createPublicKey(rsa.privateKey).export({ format: "jwk" }),
      kid: "oracle",
      alg: "RS256",
      use: "sig",
    };
    jwks = await JwksServer.start([{ kid: "oracle", privateKey: rsa.privateKey, jwk }]);
  });
  afterAll(() => jwks.close());

  it("never accepts what the oracle rejects, and refuses what it accepts only by a listed stricter rule", async () => {
    const verifier = createVerifier({
      jwksUri: jwks.jwksUri,
      algorithms: ["RS256"],
      clock: () => NOW * 1000,
      tokenCache: false,
    });
    const signer: Signer = {
      alg: "RS256",
      sign: (claims, header = {}) => signAs("RS256", rsa.privateKey, claims as Record<string, unknown>, header),
      signWithOtherKey: (claims) => signAs("RS256", otherRsa.privateKey, claims as Record<string, unknown>),
    };
    await compare(verifier, signer, jsonwebtokenOracle(createPublicKey(rsa.privateKey), "RS256"), 300);
  }, 60_000);
});
