import { buildChallenge, type ChallengeParams } from './challenge.js';
import { type AuthError, clientDescription, InsufficientScopeError } from './errors.js';
import type { AuthLogger } from './logger.js';

/** A framework-neutral HTTP response an adapter writes out. */
export interface ResponseParts {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: string;
}

export type AuthFailure = {
  readonly ok: false;
  /** Why; absent when the request simply carried no credentials (401 without an error code). */
  readonly error: AuthError | undefined;
  readonly correlationId: string;
  readonly response: ResponseParts;
};

/** What the log line of a refused request names about the request (never its query string). */
export interface RefusedRequest {
  readonly method: string;
  readonly url: string;
}

export interface ErrorResponderOptions {
  /** The resource's RFC 9728 metadata URL, named in every challenge. */
  readonly resourceMetadata: string;
  /** DPoP proof algorithms accepted, named in DPoP challenges. */
  readonly dpopAlgorithms: readonly string[];
  readonly logger: AuthLogger;
}

/**
 * Turns an {@link AuthError} (or a request without credentials) into the response a client gets
 * and the line the operator reads: status, `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9728
 * §5.1, RFC 9449 §7.1; 503 gets `Retry-After` instead), a JSON body with the error, a generic
 * description and the correlation id; and a warning with the detailed reason under that id.
 */
export function createErrorResponder(options: ErrorResponderOptions) {
  const { resourceMetadata, dpopAlgorithms, logger } = options;

  const challengesFor = (error: AuthError | undefined, scope: readonly string[]): string[] => {
    const params: ChallengeParams = {
      error: error?.error === 'temporarily_unavailable' ? undefined : error?.error,
      errorDescription: error ? clientDescription(error) : undefined,
      scope: error instanceof InsufficientScopeError ? error.requiredScopes : scope,
      resourceMetadata,
    };
    if (error?.error === 'invalid_dpop_proof')
      return [buildChallenge('DPoP', { ...params, algs: dpopAlgorithms })];
    const challenges = [buildChallenge('Bearer', params)];
    if (error?.reason === 'dpop_bound_token_as_bearer') {
      challenges.push(buildChallenge('DPoP', { algs: dpopAlgorithms }));
    }
    return challenges;
  };

  /** The failure for `error` (undefined: no credentials at all); `scope` is what the operation needs. */
  return function refuse(
    error: AuthError | undefined,
    scope: readonly string[],
    correlationId: string,
    request?: RefusedRequest,
  ): AuthFailure {
    const status = error?.status ?? 401;
    const headers: Record<string, string | readonly string[]> = {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'access-control-expose-headers': 'WWW-Authenticate',
    };
    if (status === 503) headers['retry-after'] = '5';
    else headers['www-authenticate'] = challengesFor(error, scope);
    const body = JSON.stringify({
      ...(error ? { error: error.error } : {}),
      error_description: error ? clientDescription(error) : 'An access token is required',
      correlation_id: correlationId,
    });
    if (error) {
      // Only the path is logged: the query string might be where a client put its token.
      logger.warn(
        {
          correlationId,
          status,
          error: error.error,
          reason: error.reason,
          detail: error.message,
          ...(request ? { method: request.method, path: pathOf(request.url) } : {}),
        },
        'request refused',
      );
    }
    return { ok: false, error, correlationId, response: { status, headers, body } };
  };
}

function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
