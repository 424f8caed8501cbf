import type { ResponseParts } from './error-response.js';
import type { RateLimitPolicyState } from './rate-limit.js';

/*
 * The `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers-10
 * (Structured Field lists, the syntax since -08): per policy its quota `q` and window `w` (seconds;
 * left out for a window that is not a whole number of seconds), what remains `r`, and `t`, the
 * seconds until it grows again (left out while the quota is full). No partition key: it would name
 * the subject or client.
 */

/** One policy's `RateLimit-Policy` item, e.g. `"subject";q=60;w=60`; names are token characters. */
export function policyItem(name: string, limit: number, windowMs: number): string {
  return `"${name}";q=${limit}${windowMs % 1000 === 0 ? `;w=${windowMs / 1000}` : ''}`;
}

/** Both fields: `policyField` (the joined policy items) and each policy's current state. */
export function rateLimitFields(
  policyField: string,
  policies: readonly RateLimitPolicyState[],
): Record<string, string> {
  let limits = '';
  for (const p of policies) {
    if (limits !== '') limits += ', ';
    limits += `"${p.name}";r=${p.remaining}`;
    if (p.refillInMs > 0) limits += `;t=${Math.ceil(p.refillInMs / 1000)}`;
  }
  return { 'ratelimit-policy': policyField, ratelimit: limits };
}

/**
 * 429 with `Retry-After` (whole seconds, at least 1), the RateLimit fields when `fields` are given,
 * and the adapters' JSON error body.
 */
export function tooManyRequestsResponse(
  retryAfterSeconds: number,
  fields: Record<string, string>,
  correlationId: string,
): ResponseParts {
  return {
    status: 429,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'retry-after': String(retryAfterSeconds),
      ...fields,
      'access-control-expose-headers': 'Retry-After, RateLimit, RateLimit-Policy',
    },
    body: JSON.stringify({
      error: 'rate_limit_exceeded',
      error_description: `Too many requests; retry in ${retryAfterSeconds} seconds`,
      correlation_id: correlationId,
    }),
  };
}

/** 503 when the limit cannot be checked and the limiter fails closed; like an unreachable JWKS. */
export function limitUncheckableResponse(correlationId: string): ResponseParts {
  return {
    status: 503,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'retry-after': '5',
      'access-control-expose-headers': 'Retry-After',
    },
    body: JSON.stringify({
      error: 'temporarily_unavailable',
      error_description: 'The request cannot be served right now; try again later',
      correlation_id: correlationId,
    }),
  };
}
