import * as oidc from 'openid-client';

/**
 * What went wrong with an upstream sign-in, for the page and the log:
 * - `unavailable`: the provider could not be reached, timed out, or answered with a server error
 *   (try again later, or sign in another way);
 * - `refused`: the provider or the person said no (cancelled at the provider, an expired code);
 * - `invalid`: an answer that fails the checks (state, issuer, ID token, PKCE): a misconfigured
 *   provider, or an attack. Logged as a warning.
 */
export type UpstreamFailure = 'unavailable' | 'refused' | 'invalid';

const UNAVAILABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT']);

export function classifyUpstreamError(error: unknown): {
  readonly failure: UpstreamFailure;
  /** For the log only: a code or error name, never a token or a code value. */
  readonly detail: string;
} {
  // fetch's network failure (refused, DNS, reset): a TypeError without a code of its own.
  if (error instanceof TypeError && !('code' in error)) {
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    return { failure: 'unavailable', detail: `network: ${String(cause ?? error.message)}` };
  }
  if (error instanceof oidc.AuthorizationResponseError) {
    const unavailable = error.error === 'temporarily_unavailable' || error.error === 'server_error';
    return { failure: unavailable ? 'unavailable' : 'refused', detail: `callback: ${error.error}` };
  }
  if (error instanceof oidc.ResponseBodyError) {
    if (error.status >= 500) return { failure: 'unavailable', detail: `status ${error.status}` };
    return {
      failure: error.error === 'invalid_grant' ? 'refused' : 'invalid',
      detail: `token endpoint: ${error.error}`,
    };
  }
  if (error instanceof oidc.ClientError) {
    const code = error.code ?? 'unknown';
    const status = (error.cause as { status?: unknown } | undefined)?.status;
    if (UNAVAILABLE_CODES.has(code) || (typeof status === 'number' && status >= 500)) {
      return { failure: 'unavailable', detail: `${code}${status ? ` (${status})` : ''}` };
    }
    return { failure: 'invalid', detail: code };
  }
  return {
    failure: 'invalid',
    detail: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown',
  };
}
