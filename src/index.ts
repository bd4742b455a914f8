export { createVerifier, type ReadyOptions, type Verifier, type VerifierStatus } from "./verifier.js";
export { createRevocationList, type RevocationList, type RevocationListOptions } from "./revocation/revocation.js";
export {
  createMemoryStore,
  type MemoryStoreOptions,
  type RevocationLookup,
  type RevocationStore,
} from "./revocation/store.js";
export { optionsFromEnv, ENV_VARIABLES } from "./options/env.js";
export { readAuthorization } from "./token/header.js";
export {
  groupList,
  inAnyGroup,
  isUserToken,
  missingScopes,
  parseGroups,
  parseScopes,
  scopeList,
  type ScopeMode,
} from "./access/scopes.js";
export {
  errorResponse,
  type ChallengeOptions,
  type DpopChallenge,
  type ErrorBody,
  type ErrorResponse,
} from "./errors/response.js";
export {
  TokenError,
  ConfigError,
  KeySetError,
  MESSAGES,
  ALL_REASONS,
  type Code,
  type Reason,
} from "./errors/errors.js";
export type {
  Algorithm,
  HmacAlgorithm,
  PublicKeyAlgorithm,
  ClaimMatcher,
  ScopeSource,
  VerifierOptions,
  CognitoVerifierOptions,
} from "./options/options.js";
export type { CognitoOptions, TokenUse } from "./keys/cognito.js";
export type { JwksFetchOptions, KeySetStatus } from "./keys/jwks.js";
export type { PublicKeyInput } from "./keys/public.js";
export type { AuthContext, Claims, CognitoClaims, JwtHeader, JsonValue } from "./types.js";
export type { TokenCacheOptions } from "./cache.js";
export { CHANNELS, type GuardEvent, type KeySetEvent, type VerificationEvent } from "./events.js";
export type { DpopOptions } from "./dpop/options.js";
export { createMemoryReplayStore, type MemoryReplayStoreOptions, type ReplayStore } from "./dpop/replay.js";
export { jwkThumbprint } from "./dpop/thumbprint.js";
export type { Binding, BindingRequest } from "./token/binding.js";
export type { ClientCertificate } from "./mtls/certificate.js";
export type { UnlessOptions, UnlessPath } from "./access/unless.js";
export type { ClaimPath, ClaimRequirement, ClaimValue } from "./access/guards.js";
export type { IssuerOptions } from "./options/issuers.js";
