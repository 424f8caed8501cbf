import type { IncomingMessage } from 'node:http';
import type { AuditTrail } from '@gatehouse/audit';
import type { Logger } from '@gatehouse/logging';
import {
  type AppMetrics,
  faultOf,
  hostGuard,
  logAppErrors,
  metricsRoute,
  recordFailure,
  requestHygiene,
  requestLog,
  statusOfThrown,
} from '@gatehouse/server-kit';
import Koa from 'koa';
import type { Accounts } from '../accounts/accounts.js';
import type { Federation } from '../federation/federation.js';
import { GRANT_TYPES, RESPONSE_TYPES } from '../provider/configuration.js';
import type { ProviderHolder } from '../provider/provider-holder.js';
import type { ResourceRegistry } from '../provider/resources.js';
import type { Routes } from '../provider/routes.js';
import type { Store } from '../store/store.js';
import { StoreUnavailableError } from '../store/store-unavailable.js';
import { accountPages } from './account.js';
import { adminConsole } from './admin.js';
import { bufferBody } from './body.js';
import { exactRoutes } from './exact-routes.js';
import { federationCallback } from './federation-callback.js';
import { interactions } from './interactions/index.js';
import { issuerOrigin } from './issuer-origin.js';
import { issuerPath } from './issuer-path.js';
import { LoginThrottle } from './login-throttle.js';
import { authServerRouteOf } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import { registrationCors } from './registration-cors.js';
import { registrationGuard } from './registration-guard.js';
import { registrationRequest } from './registration-request.js';
import { requestParams } from './request-params.js';
import { refuseAccountClientTokens, signedInSessions } from './signed-in.js';
import {
  handleStoreFailures,
  type StoreFailureListener,
  storeAvailability,
} from './store-unavailable.js';
import { tokenRateLimit } from './token-rate-limit.js';

/** Repeats of an existing registration allowed per address, as a multiple of new registrations. */
const REPEATED_REGISTRATIONS_FACTOR = 20;

export interface HttpDependencies {
  readonly providers: ProviderHolder;
  readonly store: Store;
  readonly accounts: Accounts;
  readonly resources: ResourceRegistry;
  readonly federation: Federation;
  readonly audit: AuditTrail;
  readonly logger: Logger;
  readonly proxy: boolean;
  readonly https: boolean;
  readonly csrfSecret: string;
  readonly registration: { readonly maxClients: number; readonly ratePerIpPer10Min: number };
  readonly tokenRatePerIpPerMinute: number;
  /** The issuer: its origin is the only host answered, and every published URL is built on it. */
  readonly issuer: string;
  /** The issuer's path (`/tenant`), or '' for an issuer at the host root. */
  readonly issuerPath: string;
  /** Endpoint paths below the issuer: the same table oidc-provider's `routes` come from. */
  readonly routes: Routes;
  /** AUTH_CLIENTS' ids: the account page says which clients the operator configured. */
  readonly configuredClientIds: ReadonlySet<string>;
  /** Prometheus: the registry, the public port's /metrics token, the store failure counter. */
  readonly metrics: {
    readonly app: AppMetrics;
    readonly token: string | undefined;
    readonly storeFailure: StoreFailureListener;
  };
  /** AUTH_ADMINS: who may use the admin console. */
  readonly admins: ReadonlySet<string>;
  /** Rotates the signing keys and starts signing with the new ones (the admin console). */
  readonly rotateKeys: () => Promise<string[]>;
}

/**
 * The koa app in front of oidc-provider: correlation ids and access logs, request hygiene,
 * security headers, health endpoints, the host check (only the issuer's host is answered, and the
 * provider sees the issuer's origin), the login/consent pages, request-parameter canonicalisation,
 * then the provider itself for every OAuth endpoint.
 */
export function createHttpApp(deps: HttpDependencies): Koa {
  const app = new Koa({ proxy: deps.proxy });
  const { logger, routes } = deps;

  app.use(requestLog(logger, ['/healthz', '/readyz']));
  app.use(deps.metrics.app.httpRequests(authServerRouteOf(routes)));
  app.use(requestHygiene());
  // Before the Host check: a scraper on the private network may use any host name.
  app.use(metricsRoute(deps.metrics.app.registry, deps.metrics.token));

  app.use(async (ctx, next) => {
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('x-frame-options', 'DENY');
    ctx.set('cross-origin-opener-policy', 'same-origin');
    if (deps.https) ctx.set('strict-transport-security', 'max-age=31536000');
    await next();
  });

  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      const ready = await deps.store.ping().catch(() => false);
      if (!ready) recordFailure(ctx.req, { reason: 'store not ready: /readyz answered 503' });
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'unavailable' };
      return;
    }
    await next();
  });

  app.use(
    hostGuard({
      origin: deps.issuer,
      proxy: deps.proxy,
      onRefused: (ctx, reason) =>
        logger.info(
          { requestId: ctx.state.requestId, host: ctx.get('host'), reason },
          'request for another host refused',
        ),
    }),
  );
  app.use(issuerOrigin(deps.issuer));
  if (deps.issuerPath) app.use(issuerPath(deps.issuerPath));
  app.use(exactRoutes(routes));

  // A store that is down (Redis connection lost) or fails a command mid-request gets a clear,
  // retryable answer instead of a generic server error; the Redis client reconnects by itself.
  app.use(storeAvailability(deps.store, deps.metrics.storeFailure));
  // Registered before any other provider middleware, so it wraps them all.
  deps.providers.onProvider((provider) => handleStoreFailures(provider, deps.metrics.storeFailure));
  // oidc-provider answers its own faults with a 500 page or `server_error` JSON and tells only this
  // event: the reason goes to the access log's error line.
  deps.providers.onProvider((provider) => {
    provider.on('server_error', (ctx, error) => {
      if (!(error instanceof StoreUnavailableError)) recordFailure(ctx.req, faultOf(error));
    });
    // What escapes its own error handling reaches koa's `error` event (printed as plain text
    // without a listener); the answer is logged by our access log, so only the reason is kept.
    // (oidc-provider's types list only its own events; Provider is a koa app.)
    (provider as unknown as Koa).on('error', (error: unknown, ctx?: { req: IncomingMessage }) => {
      if (ctx && statusOfThrown(error) >= 500) recordFailure(ctx.req, faultOf(error));
    });
  });

  app.use(
    federationCallback({
      federation: deps.federation,
      audit: deps.audit,
      logger,
      basePath: deps.issuerPath,
      interactionPath: routes.interaction,
    }),
  );
  const sessions = signedInSessions({
    providers: deps.providers,
    store: deps.store,
    accounts: deps.accounts,
    csrfSecret: deps.csrfSecret,
    issuer: deps.issuer,
    basePath: deps.issuerPath,
    authorizationPath: routes.authorization,
    https: deps.https,
  });
  app.use(sessions.callback);
  app.use(
    accountPages({
      providers: deps.providers,
      sessions,
      store: deps.store,
      audit: deps.audit,
      configuredClientIds: deps.configuredClientIds,
      logger,
      basePath: deps.issuerPath,
      endSessionPath: routes.end_session,
    }),
  );
  app.use(
    adminConsole({
      providers: deps.providers,
      sessions,
      store: deps.store,
      accounts: deps.accounts,
      audit: deps.audit,
      admins: deps.admins,
      configuredClientIds: deps.configuredClientIds,
      logger,
      basePath: deps.issuerPath,
      endSessionPath: routes.end_session,
      rotateKeys: deps.rotateKeys,
    }),
  );
  app.use(
    interactions({
      providers: deps.providers,
      accounts: deps.accounts,
      resources: deps.resources,
      federation: deps.federation,
      audit: deps.audit,
      store: deps.store,
      throttle: new LoginThrottle(deps.store.counters),
      csrfSecret: deps.csrfSecret,
      logger,
      basePath: deps.issuerPath,
      path: routes.interaction,
    }),
  );

  app.use(registrationCors(routes.registration));
  app.use(
    tokenRateLimit({
      limiter: new RateLimiter(deps.store.counters, 'token', deps.tokenRatePerIpPerMinute, 60_000),
      logger,
      path: routes.token,
    }),
  );

  // After the token rate limit (cheap refusals first), before everything that reads a body.
  app.use(bufferBody());
  app.use(refuseAccountClientTokens(routes.token));
  // Before the guard: it fingerprints the registration oidc-provider will see.
  app.use(
    registrationRequest({
      path: routes.registration,
      grantTypes: GRANT_TYPES,
      responseTypes: RESPONSE_TYPES,
      logger,
    }),
  );
  app.use(
    registrationGuard({
      store: deps.store,
      limiter: new RateLimiter(
        deps.store.counters,
        'registration',
        deps.registration.ratePerIpPer10Min,
        10 * 60_000,
      ),
      repeatLimiter: new RateLimiter(
        deps.store.counters,
        'registration-repeat',
        deps.registration.ratePerIpPer10Min * REPEATED_REGISTRATIONS_FACTOR,
        10 * 60_000,
      ),
      maxClients: deps.registration.maxClients,
      logger,
      path: routes.registration,
    }),
  );

  app.use(
    requestParams(deps.resources, {
      authorization: routes.authorization,
      token: routes.token,
      par: routes.pushed_authorization_request,
    }),
  );

  app.use(async (ctx) => {
    ctx.respond = false;
    await deps.providers.handle(ctx.req, ctx.res);
  });

  logAppErrors(app, logger);
  return app;
}
