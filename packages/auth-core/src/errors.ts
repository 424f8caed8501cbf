/**
 * One error hierarchy for the whole package. Every failure a client can cause maps to an OAuth error
 * code and an HTTP status; `reason` is a stable machine-readable code for logs, metrics and the
 * portable test vectors; `message` is a detailed explanation for the server's log only. Neither ever
 * contains a token.
 */

/** OAuth error codes a resource server answers with (RFC 6750 §3.1, RFC 9449 §7.1). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'temporarily_unavailable';

/** Why a request was refused: stable codes, safe to switch on and to log. */
export type FailureReason =
  // Authorization header and request shape (400 invalid_request)
  | 'malformed_authorization_header'
  | 'multiple_authorization_headers'
  | 'token_in_query'
  | 'token_in_body'
  // The token itself (401 invalid_token)
  | 'token_too_large'
  | 'malformed_token'
  | 'unsupported_algorithm'
  | 'unsupported_token_type'
  | 'unknown_key'
  | 'invalid_signature'
  | 'issuer_mismatch'
  | 'missing_audience'
  | 'audience_mismatch'
  | 'missing_claim'
  | 'invalid_claim'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'issued_in_future'
  | 'token_inactive'
  | 'dpop_bound_token_as_bearer'
  | 'token_not_dpop_bound'
  // DPoP proofs (401 invalid_dpop_proof)
  | 'dpop_proof_missing'
  | 'dpop_proof_multiple'
  | 'dpop_proof_invalid'
  | 'dpop_proof_replayed'
  | 'dpop_htm_mismatch'
  | 'dpop_htu_mismatch'
  | 'dpop_iat_out_of_window'
  | 'dpop_ath_mismatch'
  | 'dpop_key_mismatch'
  // Scopes (403 insufficient_scope)
  | 'insufficient_scope'
  // Our dependencies (503 temporarily_unavailable): the token could not be checked, so it is refused
  | 'discovery_failed'
  | 'metadata_issuer_mismatch'
  | 'jwks_unavailable'
  | 'introspection_failed'
  // The DPoP replay store could not record a proof's jti, so the proof is refused
  | 'dpop_replay_store_unavailable';

/** Base class: carries the OAuth error code, the HTTP status and the stable failure reason. */
export class AuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: number;
  readonly reason: FailureReason;

  constructor(
    error: OAuthErrorCode,
    status: number,
    reason: FailureReason,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(detail, options);
    this.name = new.target.name;
    this.error = error;
    this.status = status;
    this.reason = reason;
  }
}

/** 400: the request carries credentials in a way RFC 6750 forbids. */
export class InvalidRequestError extends AuthError {
  constructor(reason: FailureReason, detail: string, options?: ErrorOptions) {
    super('invalid_request', 400, reason, detail, options);
  }
}

/** 401: the access token is missing a property this resource server requires. */
export class InvalidTokenError extends AuthError {
  constructor(reason: FailureReason, detail: string, options?: ErrorOptions) {
    super('invalid_token', 401, reason, detail, options);
  }
}

/** 401: the DPoP proof that must accompany a sender-constrained token is missing or wrong. */
export class InvalidDpopProofError extends AuthError {
  constructor(reason: FailureReason, detail: string, options?: ErrorOptions) {
    super('invalid_dpop_proof', 401, reason, detail, options);
  }
}

/** 403: the token is valid but lacks scopes; `requiredScopes` is everything the operation needs. */
export class InsufficientScopeError extends AuthError {
  readonly requiredScopes: readonly string[];
  constructor(requiredScopes: readonly string[], detail: string) {
    super('insufficient_scope', 403, 'insufficient_scope', detail);
    this.requiredScopes = requiredScopes;
  }
}

/**
 * 503: the authorization server (metadata, JWKS, introspection) could not be reached or trusted, or
 * the DPoP replay store could not record a proof.
 */
export class TemporarilyUnavailableError extends AuthError {
  constructor(reason: FailureReason, detail: string, options?: ErrorOptions) {
    super('temporarily_unavailable', 503, reason, detail, options);
  }
}

/** Thrown when a factory is given options it cannot work with; names the option and the fix. */
export class ConfigurationError extends Error {
  readonly code = 'ERR_AUTH_CORE_CONFIGURATION';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/** Client-facing descriptions: generic on purpose, so a response never explains how to forge a token. */
const CLIENT_DESCRIPTIONS: Readonly<Record<OAuthErrorCode, string>> = {
  invalid_request: 'The request is malformed',
  invalid_token: 'The access token is invalid or expired',
  insufficient_scope: 'The access token does not grant the scope this operation needs',
  invalid_dpop_proof: 'The DPoP proof is missing or invalid',
  temporarily_unavailable: 'The access token cannot be checked right now; try again later',
};

/** Request-shape problems are the client's own doing and safe to explain precisely. */
const REQUEST_DESCRIPTIONS: Partial<Record<FailureReason, string>> = {
  malformed_authorization_header: 'The Authorization header is malformed',
  multiple_authorization_headers: 'Send exactly one Authorization header',
  token_in_query: 'Access tokens are accepted only in the Authorization header, not in the URL',
  token_in_body: 'Access tokens are accepted only in the Authorization header, not in the body',
};

/** The `error_description` sent to the client for an error. */
export function clientDescription(error: AuthError): string {
  return REQUEST_DESCRIPTIONS[error.reason] ?? CLIENT_DESCRIPTIONS[error.error];
}
