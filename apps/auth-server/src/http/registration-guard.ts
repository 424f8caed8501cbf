import type { Logger } from '@gatehouse/logging';
import type { Context, Next } from 'koa';
import { SHARED_CLIENT_PREFIX } from '../provider/registration.js';
import type { Store } from '../store/store.js';
import { sendOAuthError } from './oauth-error.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * In front of the registration endpoint: a per-IP rate limit and a cap on stored clients, each
 * answered with a clear OAuth-style error instead of letting an abusive or runaway client fill the
 * database.
 */
export function registrationGuard(deps: {
  store: Store;
  limiter: RateLimiter;
  maxClients: number;
  logger: Logger;
  path: string;
}) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (
      ctx.path.startsWith(`${deps.path}/${SHARED_CLIENT_PREFIX}`) &&
      (ctx.method === 'PUT' || ctx.method === 'DELETE')
    ) {
      sendOAuthError(
        ctx,
        400,
        'invalid_request',
        'This client is shared by identical registrations and cannot be changed or deleted; register again with the new metadata',
      );
      return;
    }
    if (ctx.path !== deps.path || ctx.method !== 'POST') return next();
    const wait = await deps.limiter.hit(ctx.ip);
    if (wait > 0) {
      deps.logger.warn({ ip: ctx.ip }, 'registration rate limit reached');
      const message = `Too many client registrations from this address; retry in ${Math.ceil(wait / 1000)} seconds`;
      sendOAuthError(ctx, 429, 'temporarily_unavailable', message, wait);
      return;
    }
    if ((await deps.store.models.count('Client')) >= deps.maxClients) {
      deps.logger.warn(
        { maxClients: deps.maxClients },
        'client registration refused: limit of stored clients reached',
      );
      sendOAuthError(
        ctx,
        503,
        'temporarily_unavailable',
        'This server has reached its limit of registered clients; its operator can raise AUTH_MAX_CLIENTS or remove unused clients',
      );
      return;
    }
    return next();
  };
}
