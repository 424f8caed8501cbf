import { createLogger } from '@gatehouse/logging';
import { createMcpApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

/** Starts the MCP server: config -> logger -> app -> listen; stops cleanly on signals. */
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
  const logger = createLogger({ service: 'mcp-server', ...config.log });
  const app = createMcpApp(config, logger);
  try {
    await app.listen();
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      logger.fatal(
        `port ${config.port} on ${config.bind} is already in use; stop the other process or set MCP_PORT`,
      );
      process.exit(1);
    }
    throw error;
  }
  // Fetch the authorization server's metadata and keys now, so the first request is fast; a
  // failure here is not fatal (requests answer 503 until the authorization server is up).
  app.resourceServer.verifier
    .warm()
    .catch((error: Error) =>
      logger.warn(
        { err: error.message },
        `authorization server ${config.issuer} not reachable yet`,
      ),
    );
  logger.info(
    { resource: config.resource, issuer: config.issuer, mode: config.mode },
    `MCP server ready at ${config.resource}`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
