/**
 * @gatehouse/auth-core: OAuth 2.1 access-token validation and resource-server plumbing for MCP
 * servers. The root export is runtime-neutral (web APIs only); framework adapters live at
 * `@gatehouse/auth-core/koa`, `/node` and `/fetch`.
 */
export type { AuthInfo, AuthInfoExtra } from './auth-info.js';
export { type ParsedAuthorization, parseAuthorizationHeader } from './authorization-header.js';
export {
  buildChallenge,
  type ChallengeParams,
  quoteHeaderValue,
} from './challenge.js';
export {
  type AuthorizationServerMetadata,
  authorizationServerMetadataUrls,
  type DiscoveryOptions,
  discoverAuthorizationServer,
} from './discovery.js';
export {
  createDpopProofVerifier,
  createMemoryReplayStore,
  DEFAULT_DPOP_ALGORITHMS,
  type DpopOptions,
  type DpopProofInput,
  type DpopProofVerifier,
  type DpopReplayStore,
} from './dpop.js';
export {
  AuthError,
  ConfigurationError,
  clientDescription,
  type FailureReason,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  type OAuthErrorCode,
  TemporarilyUnavailableError,
} from './errors.js';
export type { FetchLike } from './internal/fetch-json.js';
export { createIntrospectionVerifier, type IntrospectionVerifierOptions } from './introspection.js';
export {
  createJwksCache,
  createStaticJwks,
  type JwksCache,
  type JwksCacheOptions,
} from './jwks.js';
export {
  createJwtVerifier,
  DEFAULT_ALGORITHMS,
  type JwtVerifierOptions,
  SUPPORTED_ALGORITHMS,
  type SupportedAlgorithm,
} from './jwt.js';
export { type AuthLogger, silentLogger } from './logger.js';
export { isLoopbackHostname, LOOPBACK_HOSTNAMES } from './loopback.js';
export {
  buildProtectedResourceMetadata,
  createMetadataResponder,
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
  type ProtectedResourceMetadataUrls,
  protectedResourceMetadataUrls,
} from './metadata.js';
export {
  createRateLimiter,
  type RateLimitCountedDecision,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimiterSettings,
  type RateLimitKey,
  type RateLimitOutcome,
  type RateLimitPolicyState,
  type RateLimitRule,
  type RateLimitTarget,
  type RateLimitUncountedDecision,
  type RateLimitUsage,
} from './rate-limit.js';
export {
  createMemoryRateLimitStore,
  DEFAULT_RATE_LIMIT_MAX_KEYS,
  type MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
  type RateLimitCell,
  type RateLimitStore,
  type RateLimitStoreAnswer,
} from './rate-limit-store.js';
export {
  createRedisRateLimitStore,
  DEFAULT_RATE_LIMIT_KEY_PREFIX,
  type RedisEvalClient,
  type RedisRateLimitStoreOptions,
} from './redis-rate-limit-store.js';
export {
  createRedisReplayStore,
  DEFAULT_REPLAY_KEY_PREFIX,
  type RedisReplayStoreOptions,
  type RedisSetNxClient,
} from './redis-replay-store.js';
export { acceptableRequestId } from './request-id.js';
export {
  canonicalizeResourceUri,
  createAudienceMatcher,
  tryCanonicalizeResourceUri,
} from './resource.js';
export {
  type AuthFailure,
  type AuthOutcome,
  type AuthRequest,
  createResourceServer,
  type ResourceServer,
  type ResourceServerOptions,
  type ResponseParts,
} from './resource-server.js';
export {
  createScopePolicy,
  isScopeToken,
  parseScopes,
  type ScopeHierarchy,
  type ScopePolicy,
} from './scopes.js';
export type { TokenVerifier, VerifiedToken } from './token.js';
export { scopesForToolCalls, type ToolScopes } from './tool-scopes.js';
export {
  createTokenVerifier,
  type IntrospectionVerification,
  type JwtVerification,
  type TokenVerifierOptions,
} from './verifier.js';
