import type { AuthInfo } from '../auth-info.js';
import type { RateLimiter } from '../rate-limit.js';
import { acceptableRequestId } from '../request-id.js';
import type { AuthRequest, ResourceServer, ResponseParts } from '../resource-server.js';

export interface FetchAuthOptions {
  readonly requiredScopes?: readonly string[];
  readonly correlationHeader?: string;
}

/** Largest form body inspected for a smuggled `access_token`. */
const MAX_FORM_BYTES = 64 * 1024;

/** Turns core response parts into a web `Response`. */
export function toResponse(parts: ResponseParts): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(parts.headers)) {
    for (const one of typeof value === 'string' ? [value] : value) headers.append(name, one);
  }
  return new Response(parts.status === 204 || parts.body === '' ? null : parts.body, {
    status: parts.status,
    headers,
  });
}

/**
 * Authenticates a web `Request` (workers, Deno, Bun, the MCP SDK v2's fetch handlers). Resolves
 * the {@link AuthInfo}, or the `Response` to send instead. The request body is read only from a
 * clone and only when it is a small form, to refuse `access_token` sent there.
 */
export async function authenticateFetchRequest(
  server: ResourceServer,
  request: Request,
  options: FetchAuthOptions = {},
): Promise<AuthInfo | Response> {
  const correlationId = acceptableRequestId(
    request.headers.get(options.correlationHeader ?? 'x-request-id') ?? undefined,
  );
  // Headers joins repeated fields with ", "; a joined pair is not one token68 and is refused.
  const authorization = request.headers.get('authorization');
  const dpop = request.headers.get('dpop');
  const { pathname, search } = new URL(request.url);
  const authRequest: AuthRequest = {
    method: request.method,
    // The path is resolved against the resource's public origin, not the host this runtime saw.
    url: pathname + search,
    authorization: authorization === null ? [] : [authorization],
    dpop: dpop === null ? [] : dpop.split(/\s*,\s*/),
    bodyParams: await formParams(request),
    ...(correlationId === undefined ? {} : { correlationId }),
  };
  const outcome = await server.authenticate(
    authRequest,
    options.requiredScopes ? { requiredScopes: options.requiredScopes } : undefined,
  );
  return outcome.ok ? outcome.authInfo : toResponse(outcome.response);
}

/**
 * Per-operation scopes (step-up) after {@link authenticateFetchRequest}: the 403
 * `insufficient_scope` response naming `scopes` when `authInfo` lacks one, else `undefined`.
 */
export function requireScopesResponse(
  server: ResourceServer,
  authInfo: AuthInfo,
  scopes: readonly string[],
): Response | undefined {
  const denied = scopes.length > 0 ? server.checkScopes(authInfo, scopes) : undefined;
  return denied ? toResponse(denied.response) : undefined;
}

export interface FetchRateLimitOptions {
  /** The `RateLimit` fields of an allowed request are appended here (e.g. your response's headers). */
  readonly headers?: Headers | undefined;
  /** Named in the 429's body and log line; default a new UUID. */
  readonly correlationId?: string | undefined;
}

/**
 * Rate limits (`createRateLimiter`) after {@link authenticateFetchRequest}: `undefined` when
 * `authInfo`'s caller has quota left (its `RateLimit` fields appended to `options.headers`), else
 * the 429 `Response` (`Retry-After`, `RateLimit` fields, JSON error; 503 when the limiter fails
 * closed).
 */
export async function rateLimitResponse(
  limiter: RateLimiter,
  authInfo: AuthInfo,
  options: FetchRateLimitOptions = {},
): Promise<Response | undefined> {
  const outcome = await limiter.enforce(authInfo, { correlationId: options.correlationId });
  if (!outcome.ok) return toResponse(outcome.response);
  for (const [name, value] of Object.entries(outcome.headers)) options.headers?.append(name, value);
  return undefined;
}

/** Answers a metadata request, or `undefined` when the request is for another path. */
export function protectedResourceMetadataResponse(
  server: ResourceServer,
  request: Request,
): Response | undefined {
  const parts = server.metadataResponse(request.method, new URL(request.url).pathname);
  return parts ? toResponse(parts) : undefined;
}

async function formParams(request: Request): Promise<URLSearchParams | undefined> {
  const type = request.headers.get('content-type') ?? '';
  if (!request.body || !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return undefined;
  }
  const length = Number(request.headers.get('content-length'));
  if (Number.isFinite(length) && length > MAX_FORM_BYTES) return undefined;
  const text = await request.clone().text();
  return text.length > MAX_FORM_BYTES ? undefined : new URLSearchParams(text);
}
