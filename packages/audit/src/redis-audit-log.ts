import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  type AuditEvent,
  type AuditFilter,
  type AuditLog,
  type GrantActivity,
  latestActivity,
  matchesAuditFilter,
} from './audit-event.js';

/** Awaits one Redis command; the authorization server passes one that maps failures to a 503. */
export type RedisCommand = <T>(command: Promise<T>) => Promise<T>;

/** The key prefix the authorization server's Redis store uses; an MCP server must use the same. */
const DEFAULT_REDIS_PREFIX = 'gatehouse:';

// Per grant: a hash whose times only move forward, expiring `ttl` ms after its latest time.
// KEYS: one per grant; ARGV: ttl, then per key: issuedAt, refreshedAt, usedAt ('' when absent).
const TOUCH_ACTIVITY = `
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local latest = 0
  for j, field in ipairs({'issuedAt', 'refreshedAt', 'usedAt'}) do
    local value = ARGV[1 + (i - 1) * 3 + j]
    if value ~= '' then
      local at = tonumber(value)
      local old = tonumber(redis.call('HGET', key, field) or '0')
      if at > old then redis.call('HSET', key, field, value) else at = old end
    end
    local now = tonumber(redis.call('HGET', key, field) or '0')
    if now > latest then latest = now end
  end
  redis.call('PEXPIREAT', key, latest + ttl)
end
return #KEYS`;

/**
 * The audit trail in Redis, shared by every instance of every app on it: one sorted set scored by
 * time, each member an event (with a random suffix, so two equal events at the same millisecond
 * both stay). Queries read the time range and filter here; retention trims by score. Grant
 * activity is a hash per grant, expiring a retention period after its latest time.
 */
export class RedisAuditLog implements AuditLog {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #activityPrefix: string;
  readonly #retentionMs: number;
  readonly #command: RedisCommand;

  constructor(
    redis: Redis,
    options: {
      readonly prefix?: string;
      /** How long grant activity is kept after its latest time (the trail's retention). */
      readonly retentionMs: number;
      readonly command?: RedisCommand;
    },
  ) {
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.#redis = redis;
    this.#key = `${prefix}audit`;
    this.#activityPrefix = `${prefix}grant-activity:`;
    this.#retentionMs = options.retentionMs;
    this.#command = options.command ?? ((command) => command);
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const entries = events.flatMap((event) => [
      event.at,
      `${JSON.stringify(event)}\n${randomBytes(6).toString('base64url')}`,
    ]);
    const activity = [...latestActivity(events)];
    const multi = this.#redis.multi().zadd(this.#key, ...entries);
    if (activity.length > 0) {
      multi.eval(
        TOUCH_ACTIVITY,
        activity.length,
        ...activity.map(([grant]) => this.#activityPrefix + grant),
        this.#retentionMs,
        ...activity.flatMap(([, latest]) =>
          [latest.issuedAt, latest.refreshedAt, latest.usedAt].map((at) =>
            at === undefined ? '' : String(at),
          ),
        ),
      );
    }
    const results = await this.#command(multi.exec());
    const failed = results?.find(([error]) => error)?.[0];
    if (failed) throw failed;
  }

  async query(filter: AuditFilter): Promise<AuditEvent[]> {
    const members = await this.#command(
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

  async activity(grantIds: readonly string[]): Promise<Map<string, GrantActivity>> {
    const activity = new Map<string, GrantActivity>();
    if (grantIds.length === 0) return activity;
    const pipeline = this.#redis.pipeline();
    for (const grant of grantIds) pipeline.hgetall(this.#activityPrefix + grant);
    const results = (await this.#command(pipeline.exec())) ?? [];
    results.forEach(([error, hash], i) => {
      if (error) throw error;
      const fields = hash as Record<string, string>;
      const grant = grantIds[i];
      if (grant === undefined || Object.keys(fields).length === 0) return;
      const time = (name: string) =>
        fields[name] === undefined ? {} : { [name]: Number(fields[name]) };
      activity.set(grant, { ...time('issuedAt'), ...time('refreshedAt'), ...time('usedAt') });
    });
    return activity;
  }

  /** Events only: grant activity expires by itself. */
  async prune(before: number): Promise<number> {
    return this.#command(this.#redis.zremrangebyscore(this.#key, '-inf', `(${before}`));
  }
}
