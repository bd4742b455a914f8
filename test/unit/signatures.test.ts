import { createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, createVerifier, optionsFromEnv, type Algorithm, type VerifierOptions } from "bearer-gate";
import { signatureVerifiers } from "../../src/token/signature.js";
import { JwksServer } from "../fixtures/jwks-server.js";
import { keyPairFor, signAs } from "../fixtures/keys.js";
import { fixedClock, HMAC_SECRET, roomsAccessClaims } from "../fixtures/tokens.js";
import { rejectionOf, thrownBy } from "../helpers.js";

// Signatures on node:crypto (issue 19): every algorithm from every key source, one key type per
// algorithm, one spelling per token, typed tokens, and public keys given in the options.

const PUBLIC: Algorithm[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
  "Ed448",
];
const PAIRS = new Map(PUBLIC.map((alg) => [alg, keyPairFor(alg)]));
const pair = (alg: string): { publicKey: KeyObject; privateKey: KeyObject } => PAIRS.get(alg as Algorithm)!;
const claims = roomsAccessClaims();
const base = { clock: fixedClock, tokenCache: false as const };

let server: JwksServer;
beforeAll(async () => {
  const keys = PUBLIC.map((alg) => ({
    kid: `k-${alg}`,
    privateKey: pair(alg).privateKey,
    jwk: { ...pair(alg).publicKey.export({ format: "jwk" }), kid: `k-${alg}`, use: "sig" },
  }));
  server = await JwksServer.start(keys);
});
afterAll(() => server.close());

describe("every algorithm verifies from every key source", () => {
  it.each(PUBLIC)("%s from a JWKS (kty RSA, EC, OKP), and nothing else", async (alg) => {
    const verifier = createVerifier({ ...base, jwksUri: server.jwksUri, algorithms: [alg] });
    const token = signAs(alg, pair(alg).privateKey, claims, { kid: `k-${alg}` });
    await expect(verifier.verifyToken(token)).resolves.toBeDefined();
    const forged = signAs(alg, keyPairFor(alg).privateKey, claims, { kid: `k-${alg}` });
    expect((await rejectionOf(verifier.verifyToken(forged))).reason).toBe("invalid_signature");
  });

  it.each(PUBLIC)("%s from publicKey as a PEM, a JWK and a KeyObject", async (alg) => {
    const { publicKey, privateKey } = pair(alg);
    const token = signAs(alg, privateKey, claims);
    const forms = [
      publicKey.export({ format: "pem", type: "spki" }) as string,
      publicKey.export({ format: "jwk" }),
      publicKey,
    ];
    for (const form of forms) {
      const verifier = createVerifier({ ...base, publicKey: form, algorithms: [alg] });
      await expect(verifier.verifyToken(token)).resolves.toBeDefined();
    }
  });

  it.each(["HS256", "HS384", "HS512"])("%s with a secret, and a signature of the wrong length fails", async (alg) => {
    const secret = `${HMAC_SECRET}${"x".repeat(40)}`;
    const verifier = createVerifier({ ...base, secret, algorithms: [alg as Algorithm] });
    const token = signAs(alg, secret, claims);
    await expect(verifier.verifyToken(token)).resolves.toBeDefined();
    const short = `${token.slice(0, token.lastIndexOf(".") + 1)}AAAA`;
    expect((await rejectionOf(verifier.verifyToken(short))).reason).toBe("invalid_signature");
  });
});

describe("one key type per algorithm", () => {
  it.each([
    ["RS256", "ES256"],
    ["ES256", "RS256"],
    ["ES256", "ES384"], // a P-384 key for ES256
    ["ES384", "ES256"],
    ["EdDSA", "RS256"],
    ["RS256", "EdDSA"],
    ["Ed448", "Ed25519"],
  ])("a %s token naming a key meant for %s is never accepted", async (alg, keyAlg) => {
    // both algorithms allowed, a key of each type: the token names the one of the other type
    const jwk = (of: string, kid: string) => ({ ...pair(of).publicKey.export({ format: "jwk" }), kid });
    const verifier = createVerifier({
      ...base,
      publicKey: [jwk(keyAlg, "other-type"), jwk(alg, "own-type")],
      algorithms: [alg as Algorithm, keyAlg as Algorithm],
    });
    await expect(
      verifier.verifyToken(signAs(alg, pair(alg).privateKey, claims, { kid: "own-type" })),
    ).resolves.toBeDefined();
    const token = signAs(alg, pair(alg).privateKey, claims, { kid: "other-type" });
    expect((await rejectionOf(verifier.verifyToken(token))).reason).toBe("algorithm_not_allowed");
  });

  it.each(PUBLIC)("the %s verifier answers false for a key of any other type, and never throws", (alg) => {
    const verify = signatureVerifiers([alg]).get(alg)!;
    const token = signAs(alg, pair(alg).privateKey, claims);
    const input = token.slice(0, token.lastIndexOf("."));
    const signature = Buffer.from(token.slice(token.lastIndexOf(".") + 1), "base64url");
    expect(verify(input, signature, pair(alg).publicKey)).toBe(true);
    // the keys of another type, by this test's own reading of RFC 7518 and RFC 8037
    const family = (of: string): string =>
      /^(RS|PS)/.test(of) ? "rsa" : of === "EdDSA" || of === "Ed25519" ? "ed25519" : of === "Ed448" ? "ed448" : of;
    const accepts = alg === "EdDSA" ? ["ed25519", "ed448"] : [family(alg)];
    const others = PUBLIC.filter((other) => !accepts.includes(family(other)));
    for (const other of [...others, "HS256"]) {
      const key = other === "HS256" ? createSecretKey(Buffer.from(HMAC_SECRET)) : pair(other).publicKey;
      expect(verify(input, signature, key)).toBe(false);
    }
  });

  it("a key set's key whose type does not fit the header's algorithm is algorithm_not_allowed", async () => {
    const verifier = createVerifier({ ...base, jwksUri: server.jwksUri, algorithms: ["RS256", "ES256"] });
    const token = signAs("RS256", pair("RS256").privateKey, claims, { kid: "k-ES256" });
    expect((await rejectionOf(verifier.verifyToken(token))).reason).toBe("algorithm_not_allowed");
  });

  it("an HMAC token on a public-key verifier (the RSA key's bytes as the secret) is refused", async () => {
    const pem = pair("RS256").publicKey.export({ format: "pem", type: "spki" }) as string;
    const verifier = createVerifier({ ...base, publicKey: pem });
    const confused = signAs("HS256", pem, claims);
    expect((await rejectionOf(verifier.verifyToken(confused))).reason).toBe("algorithm_not_allowed");
  });
});

describe("one token, one spelling", () => {
  const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // the other characters that decode to the same bytes as the last one (the unused bits set)
  function otherSpellings(segment: string): string[] {
    const unused = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0;
    const last = B64URL.indexOf(segment.at(-1)!);
    const spellings: string[] = [];
    for (let bits = 1; bits < 2 ** unused; bits++) spellings.push(segment.slice(0, -1) + B64URL[last | bits]!);
    return spellings;
  }

  // the signatures whose length leaves bits over (ES384, ES512, HS384 and Ed448 fill whole characters)
  it.each(["HS256", "HS512", "RS256", "PS256", "ES256", "EdDSA"])(
    "%s: every other spelling of the signature's last character is malformed_token",
    async (alg) => {
      const secret = `${HMAC_SECRET}${"x".repeat(40)}`;
      const options: VerifierOptions = alg.startsWith("HS")
        ? { ...base, secret, algorithms: [alg as Algorithm] }
        : { ...base, publicKey: pair(alg).publicKey, algorithms: [alg as Algorithm] };
      const verifier = createVerifier(options);
      const token = signAs(alg, alg.startsWith("HS") ? secret : pair(alg).privateKey, claims);
      await expect(verifier.verifyToken(token)).resolves.toBeDefined();
      const signature = token.slice(token.lastIndexOf(".") + 1);
      const spellings = otherSpellings(signature);
      expect(spellings.length).toBeGreaterThan(0); // 15 for a 4-bit tail (HS256, RS256, ES256), 3 for a 2-bit one
      for (const spelling of spellings) {
        const respelled = token.slice(0, token.lastIndexOf(".") + 1) + spelling;
        expect(Buffer.from(spelling, "base64url")).toEqual(Buffer.from(signature, "base64url")); // same bytes
        expect((await rejectionOf(verifier.verifyToken(respelled))).reason).toBe("malformed_token");
      }
    },
  );

  it("RS256's signature has 15 other spellings, all refused", () => {
    const signature = signAs("RS256", pair("RS256").privateKey, claims).split(".")[2]!;
    expect(otherSpellings(signature)).toHaveLength(15);
  });

  it.each([
    ["padding on the signature", (t: string) => `${t}==`],
    ["standard base64 characters", (t: string) => t.replace(/-/g, "+").replace(/_/g, "/")],
    ["a signature of 4n+1 characters", (t: string) => `${t.slice(0, t.lastIndexOf(".") + 1)}AAAAA`],
  ])("refuses %s as malformed_token before any signature work", async (_name, change) => {
    const verifier = createVerifier({ ...base, secret: HMAC_SECRET });
    let token = signAs("HS256", HMAC_SECRET, claims);
    while (!/[-_]/.test(token)) token = signAs("HS256", HMAC_SECRET, { ...claims, n: Math.random() });
    expect((await rejectionOf(verifier.verifyToken(change(token)))).reason).toMatch(/malformed_token|malformed_header/);
  });

  it("refuses a header or payload whose last character carries stray bits", async () => {
    const verifier = createVerifier({ ...base, secret: HMAC_SECRET });
    for (let n = 0; n < 6; n++) {
      const token = signAs("HS256", HMAC_SECRET, { ...claims, pad: "x".repeat(n) });
      const [header, payload] = token.split(".") as [string, string];
      const spellings = [
        ...otherSpellings(header).map((h) => [h, payload]),
        ...otherSpellings(payload).map((p) => [header, p]),
      ];
      for (const [h, p] of spellings) {
        const respelled = `${h}.${p}.${token.split(".")[2]!}`;
        expect((await rejectionOf(verifier.verifyToken(respelled))).reason).toBe("malformed_token");
      }
    }
  });
});

describe("typed tokens", () => {
  const verifier = createVerifier({ ...base, secret: HMAC_SECRET });

  it.each(["JWT", "jwt", "application/jwt", "at+jwt", "application/at+JWT", "AT+JWT"])(
    "takes typ %j as an access token",
    async (typ) => {
      await expect(verifier.verifyToken(signAs("HS256", HMAC_SECRET, claims, { typ }))).resolves.toBeDefined();
    },
  );

  it.each(["dpop+jwt", "logout+jwt", "secevent+jwt", "id_token+jwt", "application/dpop+jwt", "JOSE", "jwt+at"])(
    "refuses typ %j as wrong_token_use",
    async (typ) => {
      const refusal = await rejectionOf(verifier.verifyToken(signAs("HS256", HMAC_SECRET, claims, { typ })));
      expect([refusal.reason, refusal.code, refusal.status]).toEqual(["wrong_token_use", 450, 401]);
    },
  );

  it("refuses a typ that is not a string as malformed_token", async () => {
    const refusal = await rejectionOf(verifier.verifyToken(signAs("HS256", HMAC_SECRET, claims, { typ: 5 })));
    expect(refusal.reason).toBe("malformed_token");
  });

  describe('profile: "rfc9068"', () => {
    const rfc9068 = createVerifier({ ...base, secret: HMAC_SECRET, profile: "rfc9068" });
    const full = { ...claims, sub: "u-2", client_id: "web" };

    it("takes an at+jwt token with every claim RFC 9068 requires", async () => {
      await expect(rfc9068.verifyToken(signAs("HS256", HMAC_SECRET, full, { typ: "at+jwt" }))).resolves.toBeDefined();
      await expect(
        rfc9068.verifyToken(signAs("HS256", HMAC_SECRET, full, { typ: "application/at+jwt" })),
      ).resolves.toBeDefined();
    });

    it.each([undefined, "JWT"])("refuses typ %j as wrong_token_use", async (typ) => {
      const header = typ === undefined ? {} : { typ };
      expect((await rejectionOf(rfc9068.verifyToken(signAs("HS256", HMAC_SECRET, full, header)))).reason).toBe(
        "wrong_token_use",
      );
    });

    it.each(["iss", "exp", "aud", "sub", "client_id", "iat", "jti"])("requires %s", async (name) => {
      const without = { ...full, [name]: undefined };
      const refusal = await rejectionOf(rfc9068.verifyToken(signAs("HS256", HMAC_SECRET, without, { typ: "at+jwt" })));
      expect(refusal.reason).toBe(name === "exp" ? "malformed_token" : "claim_mismatch");
    });

    it("is a ConfigError with cognito, whose tokens are not RFC 9068's", () => {
      expect(() => createVerifier({ cognito: { userPoolId: "us-east-1_aaaaaaaaa" }, profile: "rfc9068" })).toThrow(
        ConfigError,
      );
      expect(() => createVerifier({ secret: HMAC_SECRET, profile: "rfc9069" as "rfc9068" })).toThrow('"rfc9068"');
    });
  });
});

describe("publicKey", () => {
  it("defaults algorithms to the key's family", async () => {
    for (const [alg, defaults] of [
      ["RS256", ["RS256"]],
      ["ES384", ["ES384"]],
      ["EdDSA", ["EdDSA", "Ed25519"]],
      ["Ed448", ["EdDSA", "Ed448"]],
    ] as const) {
      const verifier = createVerifier({ ...base, publicKey: pair(alg).publicKey });
      for (const allowed of defaults) {
        const token = signAs(allowed, pair(alg).privateKey, claims);
        await expect(verifier.verifyToken(token)).resolves.toBeDefined();
      }
    }
    // RS256 only, unless told: a PS256 token with the same RSA key is not on the list
    const rsa = createVerifier({ ...base, publicKey: pair("RS256").publicKey });
    const ps = signAs("PS256", pair("RS256").privateKey, claims);
    expect((await rejectionOf(rsa.verifyToken(ps))).reason).toBe("algorithm_not_allowed");
    const told = createVerifier({ ...base, publicKey: pair("RS256").publicKey, algorithms: ["RS256", "PS256"] });
    await expect(told.verifyToken(ps)).resolves.toBeDefined();
  });

  it("takes a list for a rotation, matched by kid", async () => {
    const jwk = (alg: string, kid: string) => ({ ...pair(alg).publicKey.export({ format: "jwk" }), kid });
    const verifier = createVerifier({
      ...base,
      publicKey: [jwk("RS256", "2026-10"), jwk("PS256", "2026-11")],
      algorithms: ["RS256"],
    });
    for (const [alg, kid] of [
      ["RS256", "2026-10"],
      ["PS256", "2026-11"],
    ]) {
      await expect(
        verifier.verifyToken(signAs("RS256", pair(alg!).privateKey, claims, { kid })),
      ).resolves.toBeDefined();
    }
    const unknown = signAs("RS256", pair("RS256").privateKey, claims, { kid: "2025-01" });
    expect((await rejectionOf(verifier.verifyToken(unknown))).reason).toBe("unknown_key");
    // without a kid, two RSA keys leave a doubt: no key is guessed at
    const noKid = signAs("RS256", pair("RS256").privateKey, claims);
    expect((await rejectionOf(verifier.verifyToken(noKid))).reason).toBe("unknown_key");
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      "a private PEM",
      () => pair("RS256").privateKey.export({ format: "pem", type: "pkcs8" }),
      /`publicKey` is a private key: give the public key only/,
    ],
    ["a private JWK", () => pair("ES256").privateKey.export({ format: "jwk" }), /a private JWK/],
    ["a private KeyObject", () => pair("EdDSA").privateKey, /a private key/],
    ["an oct JWK", () => ({ kty: "oct", k: "c2VjcmV0" }), /symmetric \(oct\) key: give it as `secret`/],
    [
      "a 1024-bit RSA key",
      () => generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey,
      /an RSA key of 1024 bits/,
    ],
    ["an X25519 key", () => generateKeyPairSync("x25519").publicKey, /x25519 key.*no algorithm verifies with/],
    ["a secp256k1 key", () => generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey, /secp256k1/],
    ["garbage", () => "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", /not a PEM public key/],
    ["an empty list", () => [], /empty list/],
    ["a number", () => 5, /must be a PEM string, a JWK object or a KeyObject/],
  ])("refuses %s at start-up, saying so", (_name, make, message) => {
    const error = thrownBy(() => createVerifier({ publicKey: make() as string })) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("PRIVATE KEY-----\n"); // the key itself is never repeated
  });

  it("refuses algorithms the given key cannot verify, and a second key source", () => {
    expect(() => createVerifier({ publicKey: pair("EdDSA").publicKey, algorithms: ["RS256"] })).toThrow(
      /`algorithms`: RS256 cannot be used with the given `publicKey` \(ed25519\)/,
    );
    expect(() => createVerifier({ publicKey: pair("ES256").publicKey, algorithms: ["ES384"] })).toThrow(
      /ES384 cannot be used/,
    );
    expect(() => createVerifier({ publicKey: pair("RS256").publicKey, secret: HMAC_SECRET })).toThrow(
      "give one key source",
    );
  });

  it("reads JWT_PUBLIC_KEY as a PEM or the path of a PEM file", async () => {
    const pem = pair("ES256").publicKey.export({ format: "pem", type: "spki" }) as string;
    const token = signAs("ES256", pair("ES256").privateKey, claims);
    const dir = mkdtempSync(join(tmpdir(), "bearer-gate-"));
    try {
      const file = join(dir, "public.pem");
      writeFileSync(file, pem);
      for (const value of [pem, pem.replace(/\n/g, "\\n"), file]) {
        const verifier = createVerifier({ ...optionsFromEnv({ JWT_PUBLIC_KEY: value }), clock: fixedClock });
        await expect(verifier.verifyToken(token)).resolves.toBeDefined();
      }
      expect(() => optionsFromEnv({ JWT_PUBLIC_KEY: join(dir, "missing.pem") })).toThrow(/JWT_PUBLIC_KEY .*ENOENT/);
      const privatePem = pair("ES256").privateKey.export({ format: "pem", type: "pkcs8" }) as string;
      expect(() => createVerifier(optionsFromEnv({ JWT_PUBLIC_KEY: privatePem }))).toThrow(
        /`JWT_PUBLIC_KEY` is a private key/,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("a PEM export of a JWK and its KeyObject are the same key", () => {
    const jwk = pair("RS256").publicKey.export({ format: "jwk" });
    expect(createPublicKey({ key: jwk, format: "jwk" }).equals(pair("RS256").publicKey)).toBe(true);
  });
});
