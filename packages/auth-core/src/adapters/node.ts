import type { AuthInfo } from '../auth-info.js';
import type { RateLimiter } from '../rate-limit.js';
import { acceptableRequestId } from '../request-id.js';
import type { AuthRequest, ResourceServer, ResponseParts } from '../resource-server.js';
import { bodyParamsOf, type HeaderValues, headerList } from './shared.js';

/**
 * Node `http` adapter. Typed structurally, so this package needs no Node types and works with
 * `http`, `http2` compatibility objects and anything built on them (express, koa's `ctx.req`).
 */
export interface NodeRequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, HeaderValues>>;
  /** Node 18.3+: every value of every header, which is how duplicate Authorization headers are seen. */
  readonly headersDistinct?: Readonly<Record<string, readonly string[] | undefined>>;
  /** A body an earlier middleware parsed (express, body parsers), checked for `access_token`. */
  readonly body?: unknown;
  /**
   * Set on success to the {@link AuthInfo}, where the MCP SDK's Node transport reads it. Typed
   * `unknown` here so that requests whose `auth` another package declares (the MCP SDK augments
   * Express's and Node's request with its own `AuthInfo` type) are accepted as they are.
   */
  auth?: unknown;
}

export interface NodeResponseLike {
  statusCode: number;
  setHeader(name: string, value: string | readonly string[]): unknown;
  end(body?: string): unknown;
}

export interface NodeAuthOptions {
  readonly requiredScopes?: readonly string[];
  /** Request header holding an id assigned upstream; default `x-request-id`. */
  readonly correlationHeader?: string;
}

/** Builds the core's request view from a Node request. */
export function toAuthRequest(
  req: NodeRequestLike,
  correlationHeader = 'x-request-id',
): AuthRequest {
  const all = (name: string) =>
    headerList(req.headersDistinct ? req.headersDistinct[name] : req.headers[name]);
  const correlationId = acceptableRequestId(all(correlationHeader)[0]);
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    authorization: all('authorization'),
    dpop: all('dpop'),
    bodyParams: bodyParamsOf(req.body),
    ...(correlationId === undefined ? {} : { correlationId }),
  };
}

/** Writes a core response to a Node response. */
export function writeResponse(res: NodeResponseLike, parts: ResponseParts): void {
  res.statusCode = parts.status;
  for (const [name, value] of Object.entries(parts.headers)) res.setHeader(name, value);
  res.end(parts.body);
}

/**
 * Authenticates a Node request. On success sets `req.auth` and resolves the {@link AuthInfo}; on
 * failure writes the 400/401/403/503 response and resolves `undefined`.
 */
export async function authenticateNodeRequest(
  server: ResourceServer,
  req: NodeRequestLike,
  res: NodeResponseLike,
  options: NodeAuthOptions = {},
): Promise<AuthInfo | undefined> {
  const outcome = await server.authenticate(
    toAuthRequest(req, options.correlationHeader),
    options.requiredScopes ? { requiredScopes: options.requiredScopes } : undefined,
  );
  if (!outcome.ok) {
    writeResponse(res, outcome.response);
    return undefined;
  }
  req.auth = outcome.authInfo;
  return outcome.authInfo;
}

/**
 * Per-operation scopes (step-up) after {@link authenticateNodeRequest}: `true` when `authInfo`
 * holds every one of `scopes`; otherwise writes the 403 `insufficient_scope` response naming them
 * and returns `false`.
 */
export function requireScopes(
  server: ResourceServer,
  authInfo: AuthInfo,
  scopes: readonly string[],
  res: NodeResponseLike,
): boolean {
  const denied = scopes.length > 0 ? server.checkScopes(authInfo, scopes) : undefined;
  if (denied) writeResponse(res, denied.response);
  return denied === undefined;
}

/**
 * Rate limits (`createRateLimiter`) after {@link authenticateNodeRequest}: resolves `true` and sets
 * the `RateLimit` fields on `res` when `authInfo`'s caller has quota left; otherwise writes the 429
 * response (`Retry-After`, `RateLimit` fields, JSON error naming `correlationId`) and resolves
 * `false` (503 when the limiter fails closed).
 */
export async function enforceRateLimit(
  limiter: RateLimiter,
  authInfo: AuthInfo,
  res: NodeResponseLike,
  options: { readonly correlationId?: string | undefined } = {},
): Promise<boolean> {
  const outcome = await limiter.enforce(authInfo, options);
  if (!outcome.ok) {
    writeResponse(res, outcome.response);
    return false;
  }
  for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value);
  return true;
}

/** Serves the RFC 9728 metadata at both well-known paths; returns `false` for other paths. */
export function serveProtectedResourceMetadata(
  server: ResourceServer,
  req: NodeRequestLike,
  res: NodeResponseLike,
): boolean {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const parts = server.metadataResponse(req.method ?? 'GET', path);
  if (!parts) return false;
  writeResponse(res, parts);
  return true;
}
