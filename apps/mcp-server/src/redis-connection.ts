import type { Logger } from '@gatehouse/logging';
import { Redis } from 'ioredis';

/**
 * A Redis connection for one of the MCP server's shared stores (DPoP replay, rate limits). It fails
 * fast instead of queueing: no offline queue, one retry, a 1 s command timeout; after a loss it
 * reconnects in the background (at most every 2 s) and the loss and the return are logged once
 * each. At startup an unreachable Redis rejects with a message naming `variable` and the fix.
 */
export async function connectRedis(
  url: string,
  options: {
    /** The environment variable that named it, for the startup error. */
    readonly variable: string;
    /** What else the operator can do, e.g. "unset the variable to use the in-memory store". */
    readonly otherwise: string;
    /** What it is, and what a loss means, for the log: "DPoP replay store (Redis)". */
    readonly what: string;
    readonly whileLost: string;
    readonly logger: Logger;
  },
): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: 1000,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  });
  let connected = false;
  let lost = false;
  let startupError: Error | undefined;
  // Without a listener ioredis prints every reconnection attempt; report a loss once instead.
  redis.on('error', (error: Error) => {
    if (!connected) {
      startupError ??= error;
      return;
    }
    if (lost) return;
    lost = true;
    options.logger.warn(
      { err: error.message },
      `${options.what} unreachable: ${options.whileLost}`,
    );
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    options.logger.info(`${options.what} reachable again`);
  });
  try {
    await redis.connect();
    await redis.ping();
    // ioredis reports a database it could not SELECT as an event, not as a failed connect.
    if (startupError) throw startupError;
  } catch (error) {
    redis.disconnect();
    // ioredis rejects with "Connection is closed."; the socket's own error says why.
    const reason = (startupError ?? (error as Error)).message;
    const { hostname, port } = new URL(url);
    throw new Error(
      `${options.variable}: cannot connect to Redis at ${hostname}:${port || 6379} (${reason}); start Redis, fix the URL, or ${options.otherwise}`,
    );
  }
  connected = true;
  return redis;
}
