import { recordFailure, sendOAuthError } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Store } from '../store/store.js';
import { StoreUnavailableError } from '../store/store-unavailable.js';
import { pageCsp, renderMessage } from '../ui/pages.js';

/**
 * A request the store cannot serve right now (Redis unreachable, or a command refused or lost
 * mid-request) gets one clear, retryable answer: 503 `temporarily_unavailable` with Retry-After,
 * instead of oidc-provider's or koa's generic 500. The client retries; the access log's error line
 * says why (failures.ts in server-kit), with the request's correlation id.
 */

const RETRY_AFTER_MS = 2000;
const DESCRIPTION = 'The authorization server cannot reach its storage; retry shortly';

/** The answer itself: OAuth JSON, or a page for a browser (sign-in pages, authorization requests). */
function sendStoreUnavailable(ctx: Context): void {
  // Whatever was being answered is replaced, e.g. an error redirect to the client.
  ctx.remove('location');
  if (ctx.accepts('json', 'html') === 'html') {
    ctx.status = 503;
    ctx.set('cache-control', 'no-store');
    ctx.set('retry-after', String(RETRY_AFTER_MS / 1000));
    ctx.set('content-security-policy', pageCsp());
    ctx.type = 'html';
    ctx.body = renderMessage(
      'Temporarily unavailable',
      'Signing in is temporarily unavailable. Try again in a moment.',
    );
    return;
  }
  sendOAuthError(ctx, 503, 'temporarily_unavailable', DESCRIPTION, RETRY_AFTER_MS);
  // An earlier answer may have set another type (e.g. an HTML error page); koa keeps it otherwise.
  ctx.type = 'json';
}

/** The reason the access log writes on its error line: the store's, never the command. */
function recordStoreFailure(ctx: Context, error: StoreUnavailableError): void {
  recordFailure(ctx.req, { reason: `store failed during the request: ${error.reason}` });
}

/**
 * koa middleware in front of every route that uses the store: refuses requests while the store is
 * known to be unreachable (no round trip), and turns a store failure thrown by a later middleware
 * (rate limits, sign-in throttle, refresh retry cache, sign-in pages) into the 503.
 */
/** Told of each request the store failed: refused while known to be down, or failed mid-request. */
export type StoreFailureListener = (kind: 'refused' | 'failed') => void;

export function storeAvailability(store: Store, onFailure: StoreFailureListener = () => {}) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!store.available()) {
      recordFailure(ctx.req, { reason: 'store unavailable: request refused' });
      onFailure('refused');
      sendStoreUnavailable(ctx);
      return;
    }
    try {
      await next();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      recordStoreFailure(ctx, error);
      onFailure('failed');
      sendStoreUnavailable(ctx);
    }
  };
}

/**
 * The same inside oidc-provider, which answers requests itself (its own koa app): its error
 * handlers catch an adapter's StoreUnavailableError, render `server_error` and report it through
 * the `server_error` event; a failure after its error handler (saving the session) is thrown out of
 * its router. A middleware around the router rewrites either into the 503.
 */
export function handleStoreFailures(
  provider: Provider,
  onFailure: StoreFailureListener = () => {},
): void {
  const failures = new WeakMap<object, StoreUnavailableError>();
  provider.on('server_error', (ctx, error) => {
    if (error instanceof StoreUnavailableError) failures.set(ctx, error);
  });
  provider.use(async (ctx, next) => {
    let failure: StoreUnavailableError | undefined;
    try {
      await next();
      failure = failures.get(ctx);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      failure = error;
    }
    if (!failure) return;
    recordStoreFailure(ctx, failure);
    onFailure('failed');
    sendStoreUnavailable(ctx);
  });
}
