import { createRedisReplayStore, type DpopReplayStore } from '@gatehouse/auth-core';
import type { Logger } from '@gatehouse/logging';
import type { DpopReplayStoreConfig } from './config.js';
import { connectRedis } from './redis-connection.js';

/**
 * The DPoP replay store `MCP_DPOP_REPLAY_STORE` selects. `memory` (the default) leaves auth-core's
 * per-process store in place, which is right for one instance only: behind a load balancer a proof
 * accepted by one instance could be replayed against another. `redis://…` shares the proof `jti`s
 * of every instance through one Redis.
 *
 * While Redis is unreachable a DPoP-bound request is refused with 503 (auth-core fails closed) and
 * the client reconnects in the background (redis-connection.ts); bearer tokens are unaffected.
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
  const redis = await connectRedis(config.url, {
    variable: 'MCP_DPOP_REPLAY_STORE',
    otherwise: 'unset the variable to use the in-memory store on a single instance',
    what: 'DPoP replay store (Redis)',
    whileLost: 'DPoP-bound requests get 503 until it is back',
    logger,
  });
  return {
    store: createRedisReplayStore(redis),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
