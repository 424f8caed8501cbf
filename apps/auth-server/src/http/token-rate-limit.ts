import type { Logger } from '@gatehouse/logging';
import { sendOAuthError } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';
import type { RateLimiter } from './rate-limit.js';

/** Per-IP rate limit on the token endpoint: 429 with Retry-After and an OAuth-style JSON error. */
export function tokenRateLimit(deps: { limiter: RateLimiter; logger: Logger; path: string }) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== deps.path || ctx.method !== 'POST') return next();
    const wait = await deps.limiter.hit(ctx.ip);
    if (wait === 0) return next();
    deps.logger.warn({ ip: ctx.ip }, 'token endpoint rate limit reached');
    const message = `Too many token requests from this address; retry in ${Math.ceil(wait / 1000)} seconds`;
    sendOAuthError(ctx, 429, 'temporarily_unavailable', message, wait);
  };
}
