import type { Logger } from '@gatehouse/logging';
import type { Context, Next } from 'koa';
import type { RateLimiter } from './rate-limit.js';

/** Per-IP rate limit on the token endpoint: 429 with Retry-After and an OAuth-style JSON error. */
export function tokenRateLimit(deps: { limiter: RateLimiter; logger: Logger; path: string }) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== deps.path || ctx.method !== 'POST') return next();
    const wait = deps.limiter.hit(ctx.ip);
    if (wait === 0) return next();
    deps.logger.warn({ ip: ctx.ip }, 'token endpoint rate limit reached');
    ctx.status = 429;
    ctx.set('retry-after', String(Math.ceil(wait / 1000)));
    ctx.set('cache-control', 'no-store');
    ctx.body = {
      error: 'temporarily_unavailable',
      error_description: `Too many token requests from this address; retry in ${Math.ceil(wait / 1000)} seconds`,
    };
  };
}
