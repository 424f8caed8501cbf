import type { OAuthErrorCode } from './errors.js';

/** Parameters of one `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1, RFC 9449 §7.1). */
export interface ChallengeParams {
  readonly error?: OAuthErrorCode | undefined;
  readonly errorDescription?: string | undefined;
  /** Every scope the operation needs; sent space separated. */
  readonly scope?: readonly string[] | undefined;
  /** URL of this resource's RFC 9728 metadata document. */
  readonly resourceMetadata?: string | undefined;
  /** DPoP only: the proof algorithms accepted. */
  readonly algs?: readonly string[] | undefined;
}

/**
 * RFC 9110 quoted-string: backslash-escape `"` and `\`. Control characters and non-ASCII cannot be
 * sent safely in a header at all, so they are replaced rather than escaped.
 */
export function quoteHeaderValue(value: string): string {
  const safe = value.replace(/[^\x20-\x7E]/g, '?').replace(/["\\]/g, (c) => `\\${c}`);
  return `"${safe}"`;
}

/** Builds one challenge, e.g. `Bearer error="invalid_token", resource_metadata="https://…"`. */
export function buildChallenge(scheme: 'Bearer' | 'DPoP', params: ChallengeParams): string {
  const parts: string[] = [];
  if (params.error) parts.push(`error=${quoteHeaderValue(params.error)}`);
  if (params.errorDescription) {
    parts.push(`error_description=${quoteHeaderValue(params.errorDescription)}`);
  }
  if (params.scope && params.scope.length > 0) {
    parts.push(`scope=${quoteHeaderValue(params.scope.join(' '))}`);
  }
  if (params.resourceMetadata) {
    parts.push(`resource_metadata=${quoteHeaderValue(params.resourceMetadata)}`);
  }
  if (params.algs && params.algs.length > 0) {
    parts.push(`algs=${quoteHeaderValue(params.algs.join(' '))}`);
  }
  return parts.length > 0 ? `${scheme} ${parts.join(', ')}` : scheme;
}
