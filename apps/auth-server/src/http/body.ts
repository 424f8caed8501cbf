import type { IncomingMessage } from 'node:http';
import { readRequestBody, sendOAuthError } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';

/** oidc-provider's own request-body limit (lib/shared/selective_body.js): ours matches it. */
export const MAX_BODY = 56 * 1024;

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Reads the body of every request bound for oidc-provider once, up front: oversized bodies get 413,
 * a body the client broke off or framed wrongly gets 400 (RequestBodyError) instead of a fault
 * inside the provider, and the middlewares in between (registration guard, parameter rewriting)
 * read it from {@link bufferedBody} without consuming the stream. The provider then reads it again
 * through {@link replayBody}.
 */
export function bufferBody() {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!WITH_BODY.has(ctx.method)) return next();
    const body = await readRequestBody(ctx.req, MAX_BODY);
    if (body === undefined) {
      sendOAuthError(ctx, 413, 'invalid_request', `request body larger than ${MAX_BODY} bytes`);
      return;
    }
    ctx.state.body = body;
    replayBody(ctx.req, body);
    await next();
  };
}

/** The body {@link bufferBody} read, or undefined for requests without one. */
export function bufferedBody(ctx: Context): Buffer | undefined {
  return ctx.state.body instanceof Buffer ? ctx.state.body : undefined;
}

/** The body each replayed request will yield, for middlewares inside the provider (no ctx.state). */
const replayed = new WeakMap<IncomingMessage, Buffer>();

/** The body {@link replayBody} last set up for `req`, read without consuming the replay. */
export function replayedBody(req: IncomingMessage): Buffer | undefined {
  return replayed.get(req);
}

/**
 * Makes a consumed request readable again for oidc-provider, which reads the body with
 * `req.iterator()` while `req.readable` is true. Narrow on purpose: only what its body reader uses.
 */
export function replayBody(req: IncomingMessage, body: Buffer): void {
  replayed.set(req, body);
  req.headers['content-length'] = String(body.length);
  Object.defineProperty(req, 'readable', { value: true, configurable: true });
  Object.defineProperty(req, 'iterator', {
    configurable: true,
    value: async function* replay() {
      yield body;
    },
  });
}
