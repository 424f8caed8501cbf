import type { Logger } from '@gatehouse/logging';
import { jsonDepthWithin, MAX_JSON_DEPTH, sendOAuthError } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';
import { registrationFingerprint, SHARED_CLIENT_PREFIX } from '../provider/registration.js';
import type { Store } from '../store/store.js';
import { bufferedBody } from './body.js';
import type { RateLimiter } from './rate-limit.js';
import { registrationMetadata } from './registration-request.js';

/**
 * In front of the registration endpoint: a per-IP rate limit on registrations that create a client
 * (and a wider one on repeats of an existing one), a cap on stored clients and a bound on how deeply
 * the metadata nests, each answered with a clear OAuth-style error instead of letting
 * an abusive or runaway client fill the database or exhaust the stack.
 */
export function registrationGuard(deps: {
  store: Store;
  /** Registrations that create a client. */
  limiter: RateLimiter;
  /** Registrations identical to an existing shared client (flood protection only). */
  repeatLimiter: RateLimiter;
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
    const isUpdate = ctx.method === 'PUT' && ctx.path.startsWith(`${deps.path}/`);
    const body = bufferedBody(ctx);
    // Checked before anything recursive (our registration fingerprint, oidc-provider's validation)
    // walks a body nested thousands of levels deep.
    if (((ctx.path === deps.path && ctx.method === 'POST') || isUpdate) && body) {
      if (!jsonDepthWithin(body.toString('utf8'))) {
        sendOAuthError(
          ctx,
          400,
          'invalid_client_metadata',
          `client metadata must not nest more than ${MAX_JSON_DEPTH} levels`,
        );
        return;
      }
    }
    if (ctx.path !== deps.path || ctx.method !== 'POST') return next();
    // A registration identical to an existing one creates nothing (same client id): a client that
    // registers at every start must not use up the limit for new clients, only a wider flood limit.
    const metadata = registrationMetadata(ctx);
    const existing = metadata ? await existingSharedClient(deps.store, metadata) : false;
    const wait = await (existing ? deps.repeatLimiter : deps.limiter).hit(ctx.ip);
    if (wait > 0) {
      deps.logger.warn({ ip: ctx.ip, repeated: existing }, 'registration rate limit reached');
      const message = `Too many client registrations from this address; retry in ${Math.ceil(wait / 1000)} seconds`;
      sendOAuthError(ctx, 429, 'temporarily_unavailable', message, wait);
      return;
    }
    if (!existing && (await deps.store.models.count('Client')) >= deps.maxClients) {
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

/** True when `metadata` would get the id of a shared client that already exists. */
async function existingSharedClient(
  store: Store,
  metadata: Record<string, unknown>,
): Promise<boolean> {
  const fingerprint = registrationFingerprint(metadata);
  return fingerprint
    ? (await store.models.find('Client', `${SHARED_CLIENT_PREFIX}${fingerprint}`)) !== undefined
    : false;
}
