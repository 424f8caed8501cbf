import { createLogger } from '@gatehouse/logging';
import { createAuthServer } from './app.js';
import { ConfigError, loadConfig } from './config.js';

/** Starts the authorization server: config -> logger -> server -> listen; stops cleanly on signals. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ service: 'auth-server', ...config.log });
  const server = await createAuthServer(config, logger);
  try {
    await server.listen();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      logger.fatal(
        `port ${config.port} on ${config.bind} is already in use; stop the other process or set AUTH_PORT`,
      );
      process.exit(1);
    }
    throw error;
  }
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
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
