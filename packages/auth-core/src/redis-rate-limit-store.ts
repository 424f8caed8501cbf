import type { RateLimitCell, RateLimitStore, RateLimitStoreAnswer } from './rate-limit-store.js';

/**
 * The one command the shared rate-limit store sends: `EVAL script numkeys key… arg…`, spelled as
 * ioredis spells it. Typed structurally, so this package needs no Redis client: an ioredis `Redis`
 * satisfies it as is, any other client (node-redis, Valkey, an Upstash client) takes a small
 * wrapper. It must resolve the script's reply: an array of integers.
 */
export interface RedisEvalClient {
  eval(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
}

export interface RedisRateLimitStoreOptions {
  /**
   * Put in front of every key; default `gatehouse:rate:`. Resource servers that share one Redis
   * database but must not share budgets each take their own. On Redis Cluster, put a hash tag in
   * it (`{gatehouse-rate}:`): one request's counters (subject and client) are updated by one script,
   * which needs all its keys in one slot.
   */
  readonly prefix?: string | undefined;
}

export const DEFAULT_RATE_LIMIT_KEY_PREFIX = 'gatehouse:rate:';

/*
 * KEYS: the cells' keys. ARGV[1]: now (µs); then per cell, T and τ (µs). All integers below 2^53,
 * exact in Lua's doubles. A cell's value is its TAT; it expires (PX) when the TAT passes, which is
 * when its quota is full again, so Redis never keeps a counter that no longer limits anyone.
 * Replies { recorded (0/1), tat1, tat2, … }.
 */
const CONSUME = `local now = tonumber(ARGV[1])
local tats, ok = {}, 1
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if tat < now then tat = now end
  tats[i] = tat
  if tat - now > tonumber(ARGV[2 * i + 1]) then ok = 0 end
end
if ok == 1 then
  for i = 1, #KEYS do
    tats[i] = tats[i] + tonumber(ARGV[2 * i])
    redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000))
  end
end
table.insert(tats, 1, ok)
return tats`;

/* KEYS: the keys to read. Replies each TAT, 0 for none. */
const PEEK = `local tats = {}
for i = 1, #KEYS do tats[i] = tonumber(redis.call('GET', KEYS[i]) or '0') or 0 end
return tats`;

/**
 * A {@link RateLimitStore} in Redis (or anything speaking its `EVAL`), shared by every instance
 * behind a load balancer, so they count together. Each request is one atomic `EVAL` of a small Lua
 * script over its counters (GCRA: `GET` each TAT, then `SET … PX` each only if all conform), so two
 * instances racing for the last request of a quota cannot both get it. Reading usage is one `EVAL`
 * of a read-only script (`GET`s).
 *
 * Keys are `prefix` + the rule's name + `:` + a base64url SHA-256 of the identity (subject or
 * client id): bounded length, whatever the identity holds. Each expires (`PX`) when its quota is full again.
 * The clock is the limiter's (`now`), sent with each call: keep the instances' clocks in sync (NTP);
 * a skew of `d` ms moves one instance's view of a quota by `d / (windowMs / limit)` requests.
 *
 * A failing command (Redis down, a timeout, an unexpected reply) rejects; the limiter then lets the
 * request through or refuses it, as its `onStoreError` says.
 *
 * @example
 * const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 200 });
 * createRateLimiter({ limits, store: createRedisRateLimitStore(redis) });
 */
export function createRedisRateLimitStore(
  client: RedisEvalClient,
  options: RedisRateLimitStoreOptions = {},
): RateLimitStore {
  const prefix = options.prefix ?? DEFAULT_RATE_LIMIT_KEY_PREFIX;
  return {
    async consume(cells: readonly RateLimitCell[], nowUs: number): Promise<RateLimitStoreAnswer> {
      const args: Array<string | number> = cells.map((cell) => prefix + cell.key);
      args.push(nowUs);
      for (const cell of cells) args.push(cell.intervalUs, cell.toleranceUs);
      const reply = integers(await client.eval(CONSUME, cells.length, ...args), cells.length + 1);
      const [recorded, ...tats] = reply;
      if (recorded !== 0 && recorded !== 1)
        throw new Error(`unexpected rate-limit reply ${recorded}`);
      return { recorded: recorded === 1, tats };
    },
    async peek(keys: readonly string[]): Promise<readonly number[]> {
      const reply = await client.eval(PEEK, keys.length, ...keys.map((key) => prefix + key));
      return integers(reply, keys.length);
    },
  };
}

/** The script's reply as `length` safe integers (clients may hand integers as strings or bigints). */
function integers(reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length) {
    throw new Error('unexpected reply to the rate-limit script');
  }
  return reply.map((item: unknown) => {
    const value =
      typeof item === 'number'
        ? item
        : typeof item === 'bigint' || (typeof item === 'string' && /^\d+$/.test(item))
          ? Number(item)
          : Number.NaN;
    if (!Number.isSafeInteger(value)) throw new Error('unexpected reply to the rate-limit script');
    return value;
  });
}
