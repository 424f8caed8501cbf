import { createRedisReplayStore, type DpopReplayStore } from '@gatehouse/auth-core';
import type { Logger } from '@gatehouse/logging';
import { Redis } from 'ioredis';
import type { DpopReplayStoreConfig } from './config.js';

/**
 * The DPoP replay store `MCP_DPOP_REPLAY_STORE` selects. `memory` (the default) leaves auth-core's
 * per-process store in place, which is right for one instance only: behind a load balancer a proof
 * accepted by one instance could be replayed against another. `redis://…` shares the proof `jti`s
 * of every instance through one Redis.
 *
 * The Redis client fails fast instead of queueing: no offline queue, one retry, a 1 s command
 * timeout. While Redis is unreachable a DPoP-bound request is refused with 503 (auth-core fails
 * closed) and the client reconnects in the background; bearer tokens are unaffected.
 */
export interface OpenDpopReplayStore {
  /** `undefined`: auth-core's in-memory default. */
  readonly store: DpopReplayStore | undefined;
  close(): Promise<void>;
}

/** Connects the configured store; rejects with a message naming `MCP_DPOP_REPLAY_STORE`. */
export async function openDpopReplayStore(
  config: DpopReplayStoreConfig,
  logger: Logger,
): Promise<OpenDpopReplayStore> {
  if (config.kind === 'memory') return { store: undefined, close: async () => {} };
  const redis = new Redis(config.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: 1000,
    // Keep trying in the background after a loss, at most every 2 s.
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
    logger.warn(
      { err: error.message },
      'DPoP replay store (Redis) unreachable: DPoP-bound requests get 503 until it is back',
    );
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.info('DPoP replay store (Redis) reachable again');
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
    const { hostname, port } = new URL(config.url);
    throw new Error(
      `MCP_DPOP_REPLAY_STORE: cannot connect to Redis at ${hostname}:${port || 6379} (${reason}); start Redis, fix the URL, or unset the variable to use the in-memory store on a single instance`,
    );
  }
  connected = true;
  return {
    store: createRedisReplayStore(redis),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
