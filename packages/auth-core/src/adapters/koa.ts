import type { AuthInfo } from '../auth-info.js';
import type { RateLimitDecision, RateLimiter } from '../rate-limit.js';
import { acceptableRequestId } from '../request-id.js';
import type { ResourceServer, ResponseParts } from '../resource-server.js';
import { type NodeRequestLike, toAuthRequest } from './node.js';
import { bodyParamsOf, headerList } from './shared.js';

/** The part of a koa context this adapter touches (koa 2 and 3), typed structurally. */
export interface KoaContextLike {
  readonly req: NodeRequestLike;
  readonly method: string;
  readonly path: string;
  /** koa's request; `body` is read when a body parser set it (typed loosely: koa's own type has no `body`). */
  readonly request: object;
  status: number;
  body: unknown;
  set(field: string, value: string | string[]): void;
  state: Record<string, unknown> & { auth?: AuthInfo };
}

export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

export interface KoaAuthOptions {
  readonly requiredScopes?: readonly string[];
  readonly correlationHeader?: string;
}

function respond(ctx: KoaContextLike, parts: ResponseParts): void {
  ctx.status = parts.status;
  for (const [name, value] of Object.entries(parts.headers)) {
    ctx.set(name, typeof value === 'string' ? value : [...value]);
  }
  ctx.body = parts.body === '' ? null : parts.body;
}

/**
 * koa middleware that authenticates the request. On success `ctx.state.auth` and `ctx.req.auth`
 * (where the MCP SDK's Node transport looks) hold the {@link AuthInfo}; on failure the
 * 400/401/403/503 response is set and `next` is not called.
 */
export function koaAuth(server: ResourceServer, options: KoaAuthOptions = {}): KoaMiddleware {
  return async (ctx, next) => {
    const request = toAuthRequest(ctx.req, options.correlationHeader);
    const outcome = await server.authenticate(
      {
        ...request,
        bodyParams: bodyParamsOf((ctx.request as { body?: unknown }).body) ?? request.bodyParams,
      },
      options.requiredScopes ? { requiredScopes: options.requiredScopes } : undefined,
    );
    if (!outcome.ok) {
      respond(ctx, outcome.response);
      return;
    }
    ctx.state.auth = outcome.authInfo;
    ctx.req.auth = outcome.authInfo;
    await next();
  };
}

/**
 * koa middleware for per-operation scopes (step-up), after {@link koaAuth}: `scopesOf` names the
 * scopes this request needs (e.g. `scopesForToolCalls` of its JSON-RPC body); when the token lacks
 * one, the 403 `insufficient_scope` response naming all of them is set and `next` is not called.
 * `Ctx` is your koa context type (`koaRequireScopes<Koa.Context>(...)`), so `scopesOf` can read it.
 */
export function koaRequireScopes<Ctx extends KoaContextLike = KoaContextLike>(
  server: ResourceServer,
  scopesOf: (ctx: Ctx) => readonly string[] | undefined,
): (ctx: Ctx, next: () => Promise<unknown>) => Promise<void> {
  return async (ctx, next) => {
    const scopes = scopesOf(ctx);
    const auth = ctx.state.auth;
    const denied =
      auth && scopes && scopes.length > 0 ? server.checkScopes(auth, scopes) : undefined;
    if (denied) {
      respond(ctx, denied.response);
      return;
    }
    await next();
  };
}

export interface KoaRateLimitOptions<Ctx extends KoaContextLike = KoaContextLike> {
  /** Request header holding an id assigned upstream, named in the 429's body; default `x-request-id`. */
  readonly correlationHeader?: string;
  /** Told of each refusal (after the response is set), e.g. to put it on an audit trail. */
  readonly onRefused?: (ctx: Ctx, decision: RateLimitDecision, correlationId: string) => void;
}

/**
 * koa middleware applying `limiter` to the caller {@link koaAuth} authenticated: on success the
 * `RateLimit` fields are set and `next()` runs; over a limit the 429 response (`Retry-After`,
 * `RateLimit` fields, JSON error) is set and `next` is not called (503 when the limiter fails
 * closed). Mount it after `koaAuth`: a request without `ctx.state.auth` passes uncounted.
 */
export function koaRateLimit<Ctx extends KoaContextLike = KoaContextLike>(
  limiter: RateLimiter,
  options: KoaRateLimitOptions<Ctx> = {},
): (ctx: Ctx, next: () => Promise<unknown>) => Promise<void> {
  const header = (options.correlationHeader ?? 'x-request-id').toLowerCase();
  return async (ctx, next) => {
    const auth = ctx.state.auth;
    if (!auth) {
      await next();
      return;
    }
    const correlationId = acceptableRequestId(headerList(ctx.req.headers[header])[0]);
    const outcome = await limiter.enforce(auth, { correlationId });
    if (!outcome.ok) {
      respond(ctx, outcome.response);
      options.onRefused?.(ctx, outcome.decision, outcome.correlationId);
      return;
    }
    for (const [name, value] of Object.entries(outcome.headers)) ctx.set(name, value);
    await next();
  };
}

/** koa middleware serving the RFC 9728 metadata at both well-known paths. */
export function koaProtectedResourceMetadata(server: ResourceServer): KoaMiddleware {
  return async (ctx, next) => {
    const parts = server.metadataResponse(ctx.method, ctx.path);
    if (!parts) {
      await next();
      return;
    }
    respond(ctx, parts);
  };
}
