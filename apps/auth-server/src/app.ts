import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { Accounts } from './accounts/accounts.js';
import type { Config, User } from './config.js';
import { createHttpApp } from './http/app.js';
import { ensureSigningKeys } from './keys/keystore.js';
import { createProvider } from './provider/configuration.js';
import { ResourceRegistry } from './provider/resources.js';
import { Store } from './store/store.js';

export interface AuthServer {
  readonly app: Koa;
  readonly provider: Provider;
  readonly store: Store;
  /** Set when dev mode created a user; printed once at startup. */
  readonly devUser: User | undefined;
  listen(): Promise<Server>;
  close(): Promise<void>;
}

/** Builds the authorization server from configuration: store, keys, users, provider, HTTP. */
export async function createAuthServer(config: Config, logger: Logger): Promise<AuthServer> {
  const store = new Store(config.store);
  await ensureSigningKeys(store);
  const accounts = new Accounts(store);
  const devUser = await accounts.seed(config.users, config.dev);
  const resources = new ResourceRegistry(config.resources, config.defaultResource);
  const cookieKeys = [store.secret('cookie-key', () => randomBytes(32).toString('base64url'))];
  const csrfSecret = store.secret('csrf-key', () => randomBytes(32).toString('base64url'));
  const provider = createProvider({ config, store, accounts, resources, cookieKeys });
  const app = createHttpApp({
    provider,
    store,
    accounts,
    resources,
    logger,
    proxy: config.proxy,
    https: new URL(config.issuer).protocol === 'https:',
    csrfSecret,
  });
  // Expired tokens, codes, sessions and interactions are deleted every minute.
  const cleanup = setInterval(() => store.models.cleanup(), 60_000);
  cleanup.unref();
  let server: Server | undefined;
  return {
    app,
    provider,
    store,
    devUser,
    listen: () =>
      new Promise((resolve, reject) => {
        const listening = app.listen(config.port, config.bind);
        listening.once('listening', () => {
          server = listening;
          resolve(listening);
        });
        listening.once('error', reject);
      }),
    async close() {
      clearInterval(cleanup);
      if (server) {
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server?.close(() => resolve()));
      }
      store.close();
    },
  };
}
