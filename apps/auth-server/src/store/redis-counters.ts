import type { Redis } from 'ioredis';
import { redisCommand } from './redis-command.js';
import type { Counters } from './store.js';

// Fixed window: the first hit sets the expiry; returns the count and the ms left.
const COUNT_HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

/** {@link Counters} in Redis, so every instance counts the same hits (keys under `<prefix>counter:`). */
export class RedisCounters implements Counters {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = `${prefix}counter:`;
  }

  async countHit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const [count, ttl] = (await redisCommand(
      this.#redis.eval(COUNT_HIT, 1, `${this.#prefix}hit:${key}`, windowMs),
    )) as [number, number];
    return { count, resetInMs: ttl };
  }

  async addEvent(key: string, at: number, windowMs: number): Promise<void> {
    const name = `${this.#prefix}events:${key}`;
    // Members must be unique: the time plus a random suffix.
    await redisCommand(
      this.#redis
        .multi()
        .zadd(name, at, `${at}:${Math.random().toString(36).slice(2)}`)
        .zremrangebyscore(name, '-inf', at - windowMs)
        .pexpire(name, windowMs)
        .exec(),
    );
  }

  async recentEvents(key: string, windowMs: number, now: number): Promise<number[]> {
    const scores = await redisCommand(
      this.#redis.zrangebyscore(
        `${this.#prefix}events:${key}`,
        `(${now - windowMs}`,
        '+inf',
        'WITHSCORES',
      ),
    );
    return scores.filter((_, i) => i % 2 === 1).map(Number);
  }

  async clearEvents(key: string): Promise<void> {
    await redisCommand(this.#redis.del(`${this.#prefix}events:${key}`));
  }

  async putValue(key: string, value: string, ttlMs: number): Promise<void> {
    await redisCommand(this.#redis.set(`${this.#prefix}value:${key}`, value, 'PX', ttlMs));
  }

  async getValue(key: string): Promise<string | undefined> {
    return (await redisCommand(this.#redis.get(`${this.#prefix}value:${key}`))) ?? undefined;
  }

  async deleteValue(key: string): Promise<void> {
    await redisCommand(this.#redis.del(`${this.#prefix}value:${key}`));
  }
}
