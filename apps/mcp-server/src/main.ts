import { type OpenedAuditLog, openSqliteAuditLog, RedisAuditLog } from '@gatehouse/audit';
import { createRedisRateLimitStore } from '@gatehouse/auth-core';
import type { Logger } from '@gatehouse/logging';
import { runServer } from '@gatehouse/server-kit';
import { AUDIT_RETENTION_MS, createMcpApp } from './app.js';
import { loadConfig } from './config.js';
import { openDpopReplayStore } from './dpop-replay-store.js';
import { connectRedis } from './redis-connection.js';

/**
 * Starts the MCP server: config -> logger -> DPoP replay store, audit store -> app -> listen; stops
 * cleanly on signals (the HTTP server first, then the stores' connections).
 */
await runServer({
  service: 'mcp-server',
  loadConfig,
  portVariable: 'MCP_PORT',
  async start(config, logger) {
    // A store named in configuration but unreachable stops startup, with the variable and the fix.
    const fatal = (error: Error): never => {
      logger.fatal(error.message);
      return process.exit(1);
    };
    const replayStore = await openDpopReplayStore(config.dpopReplayStore, logger).catch(fatal);
    const auditLog = config.auditStore
      ? await openAuditStore(config.auditStore, logger).catch(fatal)
      : undefined;
    const rateLimitRedis =
      config.rateLimitStore.kind === 'redis'
        ? await connectRedis(config.rateLimitStore.url, {
            variable: 'MCP_RATE_LIMIT_STORE',
            otherwise: 'unset the variable to count in this process (one instance only)',
            what: 'Rate-limit store (Redis)',
            whileLost: 'requests pass uncounted until it is back',
            logger,
          }).catch(fatal)
        : undefined;
    const app = createMcpApp(config, logger, {
      dpopReplayStore: replayStore.store,
      auditLog: auditLog?.log,
      rateLimitStore: rateLimitRedis && createRedisRateLimitStore(rateLimitRedis),
    });
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
      {
        resource: config.resource,
        issuer: config.issuer,
        mode: config.mode,
        dpopReplayStore: config.dpopReplayStore.kind,
        rateLimitStore: config.rateLimitStore.kind,
        auditStore: config.auditStore?.split(':')[0],
      },
      `MCP server ready at ${config.resource}`,
    );
    return {
      async close() {
        await app.close();
        await replayStore.close();
        await auditLog?.close();
        await rateLimitRedis?.quit().catch(() => rateLimitRedis.disconnect());
      },
    };
  },
});

/** The authorization server's trail, from its AUTH_STORE value (MCP_AUDIT_STORE). */
async function openAuditStore(location: string, logger: Logger): Promise<OpenedAuditLog> {
  if (location.startsWith('sqlite:')) return openSqliteAuditLog(location.slice('sqlite:'.length));
  const redis = await connectRedis(location, {
    variable: 'MCP_AUDIT_STORE',
    otherwise: 'unset MCP_AUDIT_STORE to keep tool calls on the audit log stream only',
    what: 'Audit store (Redis)',
    whileLost: 'tool calls stay on the audit log stream only until it is back',
    logger,
  });
  return {
    log: new RedisAuditLog(redis, { retentionMs: AUDIT_RETENTION_MS }),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
