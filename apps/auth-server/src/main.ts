import { runServer } from '@gatehouse/server-kit';
import { createAuthServer } from './app.js';
import { loadConfig } from './config.js';

/** Starts the authorization server: config -> logger -> server -> listen; stops cleanly on signals. */
await runServer({
  service: 'auth-server',
  loadConfig,
  portVariable: 'AUTH_PORT',
  async start(config, logger) {
    const server = await createAuthServer(config, logger);
    await server.listen();
    logger.info(
      {
        issuer: config.issuer,
        store: config.store.kind,
        resources: config.resources.map((r) => r.resource),
      },
      `authorization server ready at ${config.issuer}`,
    );
    if (server.devUser) {
      // Dev mode only (loopback issuer, no AUTH_USERS): printed on stdout, never into the log.
      process.stdout.write(
        `Dev user: username "${server.devUser.username}", password "${server.devUser.password}"\n`,
      );
    }
    return server;
  },
});
