import { base64url } from 'jose';
import type { DpopReplayStore } from './dpop.js';

/**
 * The one command the shared replay store sends: `SET key value PX <ms> NX`, spelled as ioredis
 * spells it. Typed structurally, so this package needs no Redis client: an ioredis `Redis` (or
 * `Cluster`) satisfies it as is, and any other client (node-redis, a Valkey or Upstash client) takes
 * a three-line wrapper. It must resolve `'OK'` when the key was set and `null` when it existed.
 */
export interface RedisSetNxClient {
  set(
    key: string,
    value: string,
    expiryMode: 'PX',
    milliseconds: number,
    condition: 'NX',
  ): Promise<'OK' | null>;
}

export interface RedisReplayStoreOptions {
  /**
   * Put in front of every key; default `gatehouse:dpop-jti:`. Deployments that share one Redis
   * database but must not share replay state (another resource, another tenant) each take their own.
   */
  readonly prefix?: string | undefined;
  /** The clock the TTL is computed against (ms); default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

export const DEFAULT_REPLAY_KEY_PREFIX = 'gatehouse:dpop-jti:';

/**
 * A {@link DpopReplayStore} in Redis (or anything speaking its `SET … PX … NX`), shared by every
 * resource-server instance behind a load balancer: a proof accepted by one instance is refused by
 * all the others. Each `remember` is a single atomic `SET NX PX`, so two instances racing with the
 * same proof cannot both win; the entry expires when the proof could no longer pass the `iat`
 * window anyway (at least 1 ms), so Redis holds no more than the proofs of the last minute or so.
 *
 * Keys are `prefix` + base64url SHA-256 of the verifier's key (the proof key's thumbprint and the
 * `jti`): fixed length, whatever the client put in its `jti`.
 *
 * A failing command (Redis down, timeout, an unexpected answer) rejects; the DPoP verifier turns
 * that into a 503 `temporarily_unavailable` refusal, never an acceptance.
 *
 * @example
 * const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * createResourceServer({ ..., dpop: { replayStore: createRedisReplayStore(redis) } });
 */
export function createRedisReplayStore(
  client: RedisSetNxClient,
  options: RedisReplayStoreOptions = {},
): DpopReplayStore {
  const prefix = options.prefix ?? DEFAULT_REPLAY_KEY_PREFIX;
  const now = options.now ?? Date.now;
  return {
    async remember(key: string, expiresAtMs: number): Promise<boolean> {
      const remainingMs = Math.ceil(expiresAtMs - now());
      if (!Number.isFinite(remainingMs)) {
        throw new RangeError(`replay entry expiry ${expiresAtMs} is not a finite time`);
      }
      // PX must be positive: an entry already due still records the jti for a moment.
      const ttlMs = Math.max(1, remainingMs);
      const answer: unknown = await client.set(
        `${prefix}${await sha256(key)}`,
        '1',
        'PX',
        ttlMs,
        'NX',
      );
      if (answer === 'OK') return true;
      if (answer === null) return false;
      throw new Error(`unexpected answer to SET NX: ${String(answer)}`);
    },
  };
}

async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return base64url.encode(new Uint8Array(digest));
}
