import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createAuditTrail } from '@gatehouse/audit';
import { createAuditStream, type Logger } from '@gatehouse/logging';
import { createMetrics, listener } from '@gatehouse/server-kit';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { Accounts } from './accounts/accounts.js';
import { auditProviderEvents } from './audit/provider-audit.js';
import type { Config, User } from './config.js';
import { createFederation } from './federation/federation.js';
import { createHttpApp } from './http/app.js';
import { authServerMetrics } from './http/metrics.js';
import { ensureSigningKeys, providerJwks, rotateSigningKeys } from './keys/keystore.js';
import { createProvider } from './provider/configuration.js';
import { validateConfiguredClients } from './provider/configured-clients.js';
import { logOAuthErrors } from './provider/error-log.js';
import { auditGrantRevocations } from './provider/grant-audit.js';
import { ProviderHolder } from './provider/provider-holder.js';
import { ResourceRegistry } from './provider/resources.js';
import { routesFor } from './provider/routes.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface AuthServer {
  readonly app: Koa;
  readonly provider: Provider;
  readonly store: Store;
  /** Set when dev mode created a user; printed once at startup. */
  readonly devUser: User | undefined;
  listen(): Promise<Server>;
  close(): Promise<void>;
}

/** Remembers when each client was last used (at most once a minute per client). */
function trackClientUse(provider: Provider, store: Store): void {
  const recent = new Map<string, number>();
  const touch = (clientId: string | undefined) => {
    if (!clientId) return;
    const now = Date.now();
    if ((recent.get(clientId) ?? 0) > now - 60_000) return;
    recent.set(clientId, now);
    if (recent.size > 10_000) recent.clear();
    // Bookkeeping only: a failed write must not fail the request that triggered it.
    store.touchClient(clientId, now).catch(() => {});
  };
  provider.on('authorization.success', (ctx) => touch(ctx.oidc.client?.clientId));
  provider.on('grant.success', (ctx) => touch(ctx.oidc.client?.clientId));
  provider.on('registration_create.success', (_ctx, client) => touch(client.clientId));
}

/** Builds the authorization server from configuration: store, keys, users, provider, HTTP. */
export async function createAuthServer(config: Config, logger: Logger): Promise<AuthServer> {
  const store = await openStore(config.store, {
    auditRetentionMs: config.audit.retentionSeconds * 1000,
  });
  await ensureSigningKeys(store);
  const accounts = new Accounts(store);
  // No dev user when people sign in through an upstream: nobody wants a second password store.
  const devUser = await accounts.seed(config.users, config.dev && config.federation.length === 0);
  const metrics = createMetrics('auth-server', config.metrics);
  const counts = authServerMetrics(metrics);
  const audit = createAuditTrail({
    enabled: config.audit.enabled,
    observe: (event) => counts.event(event.type, event.outcome),
    log: store.audit,
    stream: createAuditStream({
      service: 'auth-server',
      format: config.log.format,
      destination: config.audit.log,
    }),
    retentionMs: config.audit.retentionSeconds * 1000,
    onStoreError: (error) =>
      logger.warn(
        { err: { message: (error as Error).message } },
        'audit events could not be stored (they are still on the audit log stream)',
      ),
  });
  const federation = createFederation(config.federation, {
    counters: store.counters,
    accounts: accounts.federated,
    issuer: config.issuer,
  });
  const resources = new ResourceRegistry(config.resources, config.defaultResource);
  const cookieKeys = [
    await store.secret('cookie-key', () => randomBytes(32).toString('base64url')),
  ];
  const csrfSecret = await store.secret('csrf-key', () => randomBytes(32).toString('base64url'));
  // One route table for oidc-provider and the middlewares in front of it, so they never disagree.
  const routes = routesFor(config.compat);
  const retentionSec = config.ttl.accessToken + 3600;
  const providerDeps = {
    config,
    store,
    accounts,
    resources,
    cookieKeys,
    routes,
    federation,
    audit,
  };
  const providers = new ProviderHolder(
    (keys) => createProvider({ ...providerDeps, jwks: keys }),
    await providerJwks(store, retentionSec),
  );
  // A configured client the provider would refuse at its first use stops startup instead.
  await validateConfiguredClients(providers.current, config.clients);
  const app = createHttpApp({
    providers,
    store,
    accounts,
    resources,
    federation,
    audit,
    logger,
    proxy: config.proxy,
    https: new URL(config.issuer).protocol === 'https:',
    csrfSecret,
    registration: config.registration,
    tokenRatePerIpPerMinute: config.tokenRatePerIpPerMinute,
    issuer: config.issuer,
    issuerPath: new URL(config.issuer).pathname.replace(/\/$/, ''),
    routes,
    configuredClientIds: new Set(config.clients.map((client) => client.client_id)),
    metrics: {
      app: metrics,
      token: config.metrics.token,
      storeFailure: counts.storeFailure,
    },
    // With no AUTH_ADMINS, the dev user (npm run dev with no AUTH_USERS) is the admin.
    admins: new Set(config.admins.length > 0 ? config.admins : devUser ? [devUser.username] : []),
    async rotateKeys() {
      const kids = await rotateSigningKeys(store);
      providers.update(await providerJwks(store, retentionSec));
      return kids;
    },
  });
  providers.onProvider((provider) => trackClientUse(provider, store));
  providers.onProvider((provider) => auditGrantRevocations(provider, logger, audit));
  providers.onProvider((provider) => auditProviderEvents(provider, audit));
  providers.onProvider((provider) => logOAuthErrors(provider, logger));
  // Keys rotated by the CLI or by another instance on the same store are picked up without a restart.
  const keyWatch = setInterval(async () => {
    try {
      // Recreates keys and configured users should the store have lost them (a Redis without
      // persistence restarted), so the provider is never swapped for one without signing keys.
      await ensureSigningKeys(store);
      const restored = await accounts.restoreMissing(config.users);
      if (restored > 0)
        logger.warn({ count: restored }, 'configured users were missing from the store: restored');
      if (providers.update(await providerJwks(store, retentionSec)))
        logger.info('signing keys changed in the store: now signing with the new keys');
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, 'signing key refresh failed');
    }
  }, config.keyRefreshSeconds * 1000);
  keyWatch.unref();
  // Expired tokens, codes, sessions and interactions are deleted every minute; clients unused for
  // AUTH_CLIENT_IDLE_TTL are reaped (their next request gets invalid_client, the cue to re-register).
  const idleMs = config.registration.clientIdleTtl * 1000;
  const housekeeping = async () => {
    try {
      await store.models.cleanup();
      const pruned = await audit.prune();
      if (pruned > 0)
        logger.info({ count: pruned }, 'audit events past AUTH_AUDIT_RETENTION deleted');
      const reaped = await store.reapIdleClients(idleMs);
      if (reaped.length > 0) logger.info({ count: reaped.length }, 'reaped idle clients');
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, 'store housekeeping failed');
    }
  };
  const cleanup = setInterval(housekeeping, Math.min(60_000, idleMs));
  cleanup.unref();
  // /metrics off the public port when *_METRICS_PORT is set.
  const http = listener(app, config.port, config.bind, {
    registry: metrics.registry,
    ...config.metrics,
  });
  return {
    app,
    get provider() {
      return providers.current;
    },
    store,
    devUser,
    listen: http.listen,
    async close() {
      clearInterval(cleanup);
      clearInterval(keyWatch);
      await http.close();
      await audit.flush();
      await store.close();
    },
  };
}
