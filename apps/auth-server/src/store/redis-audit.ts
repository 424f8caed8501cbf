import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  type AuditEvent,
  type AuditFilter,
  type AuditLog,
  matchesAuditFilter,
} from '../audit/audit-event.js';
import { redisCommand } from './redis-command.js';

/**
 * The audit trail in Redis, shared by every instance: one sorted set scored by time, each member
 * an event (with a random suffix, so two equal events at the same millisecond both stay). Queries
 * read the time range and filter here; retention trims by score.
 */
export class RedisAuditLog implements AuditLog {
  readonly #redis: Redis;
  readonly #key: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#key = `${prefix}audit`;
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const entries = events.flatMap((event) => [
      event.at,
      `${JSON.stringify(event)}\n${randomBytes(6).toString('base64url')}`,
    ]);
    await redisCommand(this.#redis.zadd(this.#key, ...entries));
  }

  async query(filter: AuditFilter): Promise<AuditEvent[]> {
    const members = await redisCommand(
      this.#redis.zrangebyscore(
        this.#key,
        filter.since ?? '-inf',
        filter.until === undefined ? '+inf' : `(${filter.until}`,
      ),
    );
    const events = members
      .map((member) => JSON.parse(member.slice(0, member.lastIndexOf('\n'))) as AuditEvent)
      .filter((event) => matchesAuditFilter(event, filter));
    return events.slice(-(filter.limit ?? 1000));
  }

  async prune(before: number): Promise<number> {
    return redisCommand(this.#redis.zremrangebyscore(this.#key, '-inf', `(${before}`));
  }
}
