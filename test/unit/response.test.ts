import { ALL_REASONS, errorResponse, TokenError } from "bearer-gate";
import {
  BODY_400,
  BODY_401,
  BODY_420,
  BODY_450,
  BODY_980,
  body403,
  GROUP,
  USER_REQUIRED,
} from "../fixtures/catalogue.js";

const BEARER_INVALID = (description: string): string =>
  `Bearer error="invalid_token", error_description="${description}"`;

describe("errorResponse", () => {
  it.each([
    ["missing_token", 401, BODY_401, "Bearer"],
    [
      "malformed_header",
      401,
      BODY_400,
      'Bearer error="invalid_request", error_description="The Authorization header must be Bearer followed by one token"',
    ],
    [
      "token_too_long",
      401,
      BODY_400,
      'Bearer error="invalid_request", error_description="The access token is too long"',
    ],
    ["malformed_token", 401, BODY_450, BEARER_INVALID("The access token is malformed")],
    ["expired", 401, BODY_450, BEARER_INVALID("The access token expired")],
    ["not_yet_valid", 401, BODY_450, BEARER_INVALID("The access token is not valid yet")],
    ["invalid_signature", 401, BODY_450, BEARER_INVALID("The access token signature is invalid")],
    ["unknown_key", 401, BODY_450, BEARER_INVALID("The access token is signed with an unknown key")],
    [
      "algorithm_not_allowed",
      401,
      BODY_450,
      BEARER_INVALID("The access token is signed with an algorithm that is not allowed"),
    ],
    ["wrong_issuer", 401, BODY_450, BEARER_INVALID("The access token comes from another issuer")],
    ["wrong_audience", 401, BODY_450, BEARER_INVALID("The access token is meant for another audience")],
    ["wrong_token_use", 401, BODY_450, BEARER_INVALID("The token is not an access token")],
    ["claim_mismatch", 401, BODY_450, BEARER_INVALID("The access token does not carry a required claim")],
    [
      "invalid_dpop_proof",
      401,
      BODY_450,
      'Bearer error="invalid_dpop_proof", error_description="The DPoP proof is missing or invalid"',
    ],
    [
      "use_dpop_nonce",
      401,
      BODY_450,
      'Bearer error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
    ],
    [
      "dpop_bound_token",
      401,
      BODY_450,
      BEARER_INVALID("The access token is DPoP-bound: send it with the DPoP scheme and a proof"),
    ],
    [
      "dpop_required",
      401,
      BODY_400,
      'Bearer error="invalid_request", error_description="The Authorization header must be DPoP followed by one token, with a DPoP proof"',
    ],
    ["wrong_certificate", 401, BODY_450, BEARER_INVALID("The access token is bound to another client certificate")],
    ["revoked", 401, BODY_450, BEARER_INVALID("The access token was revoked")],
    ["insufficient_group", 403, BODY_450, GROUP],
    [
      "insufficient_claim",
      403,
      BODY_450,
      'Bearer error="insufficient_scope", error_description="The access token lacks a claim value the route requires"',
    ],
    ["user_required", 401, BODY_420, USER_REQUIRED],
    ["keys_unavailable", 503, BODY_980, undefined],
    ["revocation_unavailable", 503, BODY_980, undefined],
    ["replay_unavailable", 503, BODY_980, undefined],
    ["internal_error", 503, BODY_980, undefined],
  ] as const)("renders %s", (reason, status, body, challenge) => {
    const response = errorResponse(new TokenError(reason));
    expect([response.status, JSON.stringify(response.body), response.headers["WWW-Authenticate"]]).toEqual([
      status,
      body,
      challenge,
    ]);
  });

  it("covers every reason in the table above", () => {
    expect(ALL_REASONS).toHaveLength(27);
  });

  describe("with DPoP (RFC 9449 §7.1)", () => {
    const dpop = { algs: "ES256 EdDSA" };
    const render = (reason: Parameters<typeof errorResponse>[0], options: Parameters<typeof errorResponse>[1]) =>
      errorResponse(reason, options).headers;

    it("puts a proof's error on the DPoP challenge, beside a bare Bearer one", () => {
      expect(render(new TokenError("invalid_dpop_proof"), { dpop })).toEqual({
        "WWW-Authenticate":
          'Bearer, DPoP error="invalid_dpop_proof", error_description="The DPoP proof is missing or invalid", algs="ES256 EdDSA"',
      });
    });

    it("puts a token's error on the Bearer challenge for a bearer request, naming DPoP's algorithms beside it", () => {
      expect(render(new TokenError("expired"), { dpop })["WWW-Authenticate"]).toBe(
        'Bearer error="invalid_token", error_description="The access token expired", DPoP algs="ES256 EdDSA"',
      );
    });

    it("puts a token's error on the DPoP challenge when the request used DPoP", () => {
      expect(render(new TokenError("expired"), { dpop: { ...dpop, presented: true } })["WWW-Authenticate"]).toBe(
        'Bearer, DPoP error="invalid_token", error_description="The access token expired", algs="ES256 EdDSA"',
      );
    });

    it("sends only the DPoP challenge when DPoP is required, with the resource's metadata", () => {
      const headers = render(new TokenError("missing_token"), {
        dpop: { ...dpop, required: true },
        resourceMetadata: "https://api.example.com/.well-known/oauth-protected-resource",
      });
      expect(headers["WWW-Authenticate"]).toBe(
        'DPoP resource_metadata="https://api.example.com/.well-known/oauth-protected-resource", algs="ES256 EdDSA"',
      );
    });

    it("hands out the nonce in DPoP-Nonce (RFC 9449 §9)", () => {
      const headers = render(new TokenError("use_dpop_nonce"), { dpop: { ...dpop, required: true, nonce: "n-1" } });
      expect(headers).toEqual({
        "WWW-Authenticate":
          'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256 EdDSA"',
        "DPoP-Nonce": "n-1",
      });
    });

    it("sends Retry-After with a replay store's 503", () => {
      const error = new TokenError("replay_unavailable", undefined, { retryAfter: 1 });
      expect([errorResponse(error).status, render(error, { dpop })]).toEqual([503, { "Retry-After": "1" }]);
    });
  });

  it("renders a group failure as 403 with the route's groups in params, and no scope in the challenge", () => {
    const response = errorResponse(new TokenError("insufficient_group", ["admins", "editors"]));
    expect([response.status, JSON.stringify(response.body), response.headers["WWW-Authenticate"]]).toEqual([
      403,
      body403("admins", "editors"),
      GROUP,
    ]);
  });

  it("renders a scope failure as 403 with the missing scopes in params and the challenge", () => {
    const response = errorResponse(new TokenError("insufficient_scope", ["posts", "camps"]));
    expect(response.status).toBe(403);
    expect(JSON.stringify(response.body)).toBe(body403("posts", "camps"));
    expect(response.headers["WWW-Authenticate"]).toBe(
      'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="posts camps"',
    );
  });

  it("strips quotes, backslashes and CR/LF from quoted challenge values", () => {
    const response = errorResponse(new TokenError("insufficient_scope", ['a"b', "c\\d", "e\r\nSet-Cookie: x=1"]));
    expect(response.headers["WWW-Authenticate"]).toMatch(/scope="ab cd eSet-Cookie: x=1"$/);
  });

  it("turns any other error into a 980 that says nothing of it", () => {
    const response = errorResponse(new Error("ECONNREFUSED 10.0.0.1:443 secret stack"));
    expect([response.status, JSON.stringify(response.body), response.headers]).toEqual([503, BODY_980, {}]);
    expect(JSON.stringify(errorResponse("a string").body)).toBe(BODY_980);
  });
});
