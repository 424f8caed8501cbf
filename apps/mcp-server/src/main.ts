import { runServer } from '@gatehouse/server-kit';
import { createMcpApp } from './app.js';
import { loadConfig } from './config.js';

/** Starts the MCP server: config -> logger -> app -> listen; stops cleanly on signals. */
await runServer({
  service: 'mcp-server',
  loadConfig,
  portVariable: 'MCP_PORT',
  async start(config, logger) {
    const app = createMcpApp(config, logger);
    await app.listen();
    // Fetch the authorization server's metadata and keys now, so the first request is fast; a
    // failure is not fatal (discovery retries, backing off from 1 s).
    app.resourceServer.verifier
      .warm()
      .catch((error: Error) =>
        logger.info(
          { err: error.message },
          `authorization server ${config.issuer} not reachable yet; retrying on the next request`,
        ),
      );
    logger.info(
      { resource: config.resource, issuer: config.issuer, mode: config.mode },
      `MCP server ready at ${config.resource}`,
    );
    return app;
  },
});
