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
    ["revoked", 401, BODY_450, BEARER_INVALID("The access token was revoked")],
    ["insufficient_group", 403, BODY_450, GROUP],
    ["user_required", 401, BODY_420, USER_REQUIRED],
    ["keys_unavailable", 503, BODY_980, undefined],
    ["revocation_unavailable", 503, BODY_980, undefined],
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
    expect(ALL_REASONS).toHaveLength(20);
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
