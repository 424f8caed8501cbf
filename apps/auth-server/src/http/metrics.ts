import type { AppMetrics } from '@gatehouse/server-kit';
import type { Context } from 'koa';
import type { Routes } from '../provider/routes.js';

/** What the authorization server counts beyond its HTTP requests (`gatehouse_` names). */
export interface AuthServerMetrics {
  /** Every audit-trail event by type and outcome, counted whether or not the trail is kept. */
  event(type: string, outcome: string): void;
  storeFailure(kind: 'refused' | 'failed'): void;
}

export function authServerMetrics(metrics: AppMetrics): AuthServerMetrics {
  const events = metrics.counter(
    'gatehouse_events_total',
    'What happened, by audit event type and outcome: token_issued, token_refreshed (failure: a refresh refused), credential_reuse, sign_in (failure: a wrong password), client_registered, consent, grant_revoked, ...',
    ['type', 'outcome'],
  );
  const store = metrics.counter(
    'gatehouse_store_errors_total',
    'Requests answered 503 because of the store: refused while it was unreachable, or failed mid-request',
    ['kind'],
  );
  return {
    event: (type, outcome) => events.inc({ type, outcome }),
    storeFailure: (kind) => store.inc({ kind }),
  };
}

/**
 * The route label of a request: one of the endpoints' names, the pages' prefixes, or `other`, so
 * that a client sending random paths cannot grow the number of series.
 */
export function authServerRouteOf(routes: Routes): (ctx: Context) => string {
  const byPath = new Map(Object.entries(routes).map(([name, path]) => [path, name]));
  return (ctx) => {
    const path = ctx.path;
    const named = byPath.get(path);
    if (named) return named;
    if (path.startsWith('/.well-known/')) return 'discovery';
    for (const prefix of [routes.interaction, '/account', '/admin', '/federation']) {
      if (path === prefix || path.startsWith(`${prefix}/`)) return prefix.slice(1);
    }
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path.slice(1);
    return 'other';
  };
}
