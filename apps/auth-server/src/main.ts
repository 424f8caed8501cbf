import { runServer } from '@gatehouse/server-kit';
import { createAuthServer } from './app.js';
import { loadConfig } from './config.js';
import { routesFor } from './provider/routes.js';

/** Starts the authorization server: config -> logger -> server -> listen; stops cleanly on signals. */
await runServer({
  service: 'auth-server',
  loadConfig,
  portVariable: 'AUTH_PORT',
  async start(config, logger) {
    const server = await createAuthServer(config, logger);
    await server.listen();
    const routes = routesFor(config.compat);
    const layout =
      config.compat === 'keycloak'
        ? `Keycloak-compatible URL layout, realm "${config.realm}"`
        : 'Gatehouse URL layout';
    logger.info(
      {
        issuer: config.issuer,
        compat: config.compat,
        ...(config.realm ? { realm: config.realm } : {}),
        // Named as in the metadata: the logger redacts fields called `token` or `authorization`.
        endpoints: {
          authorization_endpoint: `${config.issuer}${routes.authorization}`,
          token_endpoint: `${config.issuer}${routes.token}`,
          registration_endpoint: `${config.issuer}${routes.registration}`,
          jwks_uri: `${config.issuer}${routes.jwks}`,
          introspection_endpoint: `${config.issuer}${routes.introspection}`,
        },
        store: config.store.kind,
        resources: config.resources.map((r) => r.resource),
      },
      `authorization server ready at ${config.issuer} (${layout})`,
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
