import { randomUUID } from 'node:crypto';
import { type RunningRedis, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthInfo,
  createRateLimiter,
  createRedisRateLimitStore,
  DEFAULT_RATE_LIMIT_KEY_PREFIX,
  type RateLimiterOptions,
  type RedisEvalClient,
} from '../src/index.js';
import { recordingLogger } from './support/test-issuer.js';

/**
 * The shared rate-limit store: the command it sends, against a recording client; its semantics
 * against a real redis-server (Debian's, started by testkit on a free port): instances counting
 * together, atomicity under concurrency, TTLs, and what the limiter does while Redis is down.
 */

const auth = (subject: string | undefined, clientId = 'client-1'): AuthInfo => ({
  token: 'not-a-real-token',
  clientId,
  scopes: [],
  extra: { subject, issuer: 'https://as.example', tokenType: 'Bearer', claims: {} },
});

/** A connected client that fails fast (no offline queue), as an app should configure it. */
async function redisClient(redis: RunningRedis): Promise<Redis> {
  const client = new Redis(redis.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 100,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe('createRedisRateLimitStore: the command (recording client)', () => {
  const recording = (reply: unknown) => {
    const calls: Array<[string, number, Array<string | number>]> = [];
    const client: RedisEvalClient = {
      async eval(script, numKeys, ...keysAndArgs) {
        calls.push([script, numKeys, keysAndArgs]);
        return reply;
      },
    };
    return { calls, client };
  };

  it('sends one EVAL per request: every rule’s hashed key under the prefix, now, T and τ', async () => {
    const { calls, client } = recording([1, 1_000_030_000_000, 1_000_006_000_000]);
    const limiter = createRateLimiter({
      limits: [
        { key: 'subject', limit: 2, windowMs: 60_000 },
        { key: 'client', limit: 10, windowMs: 60_000 },
      ],
      store: createRedisRateLimitStore(client),
      now: () => 1_000_000_000,
    });
    const decision = await limiter.check(auth(`alice:${'x'.repeat(10_000)}\r\n`));
    expect(decision).toMatchObject({ allowed: true, policy: 'subject', remaining: 1 });
    expect(calls).toHaveLength(1);
    const [script, numKeys, args] = calls[0] ?? ['', 0, []];
    expect(script).toContain("redis.call('SET', KEYS[i]");
    expect(numKeys).toBe(2);
    const [subjectKey, clientKey, ...rest] = args;
    const keyShape = (rule: string) =>
      new RegExp(`^${DEFAULT_RATE_LIMIT_KEY_PREFIX}${rule}:[A-Za-z0-9_-]{43}$`);
    expect(subjectKey).toMatch(keyShape('subject'));
    expect(clientKey).toMatch(keyShape('client'));
    expect(rest).toEqual([1_000_000_000_000, 30_000_000, 30_000_000, 6_000_000, 54_000_000]);
  });

  it('uses the given prefix, and reads usage with one read-only EVAL', async () => {
    const { calls, client } = recording([0]);
    const limiter = createRateLimiter({
      key: 'client',
      limit: 5,
      windowMs: 1000,
      store: createRedisRateLimitStore(client, { prefix: 'rs-a:' }),
    });
    expect(await limiter.usage({ clientId: 'c1' })).toMatchObject([{ used: 0, remaining: 5 }]);
    const [script, numKeys, [key]] = calls[0] ?? ['', 0, []];
    expect(script).not.toContain('SET');
    expect(numKeys).toBe(1);
    expect(String(key).startsWith('rs-a:')).toBe(true);
  });

  it.each([
    ['QUEUED', 'QUEUED'],
    ['a short array', [1]],
    ['a flag other than 0 or 1', [2, 5]],
    ['a non-numeric item', [1, 'abc']],
    ['a null item', [1, null]],
  ])('treats %s as a store failure', async (_, reply) => {
    const limiter = createRateLimiter({
      key: 'subject',
      limit: 5,
      windowMs: 1000,
      onStoreError: 'refuse',
      store: createRedisRateLimitStore(recording(reply).client),
    });
    expect(await limiter.check(auth('alice'))).toMatchObject({
      allowed: false,
      reason: 'store_unavailable',
    });
  });
});

describe('createRedisRateLimitStore against a real redis-server', () => {
  let redis: RunningRedis;
  let client: Redis;
  let other: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    client = await redisClient(redis);
    other = await redisClient(redis);
  });
  afterAll(async () => {
    client?.disconnect();
    other?.disconnect();
    await redis?.stop();
  });

  const limiterOn = (
    redisClientFor: Redis,
    prefix: string,
    options: Partial<RateLimiterOptions> = {},
  ) =>
    createRateLimiter({
      limits: [
        { key: 'subject', limit: 3, windowMs: 60_000 },
        { key: 'client', limit: 5, windowMs: 60_000 },
      ],
      store: createRedisRateLimitStore(redisClientFor, { prefix }),
      ...options,
    } as RateLimiterOptions);

  it('two instances sharing one Redis count together', async () => {
    const prefix = `test:${randomUUID()}:`;
    const a = limiterOn(client, prefix);
    const b = limiterOn(other, prefix);
    expect((await a.check(auth('alice'))).allowed).toBe(true);
    expect((await b.check(auth('alice'))).allowed).toBe(true);
    expect(await a.check(auth('alice'))).toMatchObject({ allowed: true, remaining: 0 });
    expect(await b.check(auth('alice'))).toMatchObject({ allowed: false, policy: 'subject' });
    // The client rule is shared too: 3 of c1's 5 are gone.
    expect((await b.usage({ clientId: 'client-1' }))[1]).toMatchObject({ used: 3 });
    // Another prefix is another budget.
    expect((await limiterOn(other, `test:${randomUUID()}:`).check(auth('alice'))).allowed).toBe(
      true,
    );
  });

  it('lets exactly `limit` of many concurrent requests through, across two connections', async () => {
    const prefix = `test:${randomUUID()}:`;
    const [a, b] = [limiterOn(client, prefix), limiterOn(other, prefix)];
    const decisions = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).check(auth(`user-${i}`, 'busy'))),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(decisions.filter((d) => d.reason === 'limit_exceeded')).toHaveLength(25);
  });

  it('counts a refused request against no rule, atomically', async () => {
    const prefix = `test:${randomUUID()}:`;
    const limiter = limiterOn(client, prefix);
    for (let i = 0; i < 10; i++) await limiter.check(auth('alice', 'c1'));
    expect((await limiter.usage({ subject: 'alice', clientId: 'c1' })).map((u) => u.used)).toEqual([
      3, 3,
    ]);
  });

  it('keeps keys only while they limit: each expires when its quota is whole again', async () => {
    const prefix = `ttl:${randomUUID()}:`;
    const limiter = limiterOn(client, prefix);
    await limiter.check(auth('alice', 'c1'));
    const keys = await client.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    for (const key of keys)
      expect(key).toMatch(new RegExp(`^${prefix}(subject|client):[A-Za-z0-9_-]{43}$`));
    const ttls = (await Promise.all(keys.map((key) => client.pttl(key)))).sort((x, y) => x - y);
    // One request: T of the client rule (12 s) and of the subject rule (20 s).
    expect(ttls[0]).toBeGreaterThan(11_000);
    expect(ttls[0]).toBeLessThanOrEqual(12_000);
    expect(ttls[1]).toBeGreaterThan(19_000);
    expect(ttls[1]).toBeLessThanOrEqual(20_000);
  });

  it('allows again once the window has passed (injected clock)', async () => {
    const clock = { now: Date.now() };
    const limiter = limiterOn(client, `test:${randomUUID()}:`, { now: () => clock.now });
    for (let i = 0; i < 3; i++) expect((await limiter.check(auth('alice'))).allowed).toBe(true);
    expect(await limiter.check(auth('alice'))).toMatchObject({
      allowed: false,
      retryAfterSeconds: 20,
    });
    clock.now += 20_000;
    expect((await limiter.check(auth('alice'))).allowed).toBe(true);
    clock.now += 60_000;
    expect((await limiter.usage({ subject: 'alice' }))[0]).toMatchObject({ used: 0 });
  });

  it('while Redis is down: fails open by default, with a warning; refuses with onStoreError refuse', async () => {
    const own = await startRedis();
    const ownClient = await redisClient(own);
    const logger = recordingLogger();
    try {
      const open = limiterOn(ownClient, 'down:', { logger: { warn: logger.warn } });
      const closed = limiterOn(ownClient, 'down:', { onStoreError: 'refuse' });
      expect((await open.check(auth('alice'))).reason).toBe('within_limit');
      await own.stop();
      for (let i = 0; i < 5; i++) {
        expect(await open.check(auth('alice'))).toMatchObject({
          allowed: true,
          reason: 'store_unavailable',
        });
      }
      expect(logger.lines).toHaveLength(1);
      expect(logger.lines[0]?.fields.reason).toBe('rate_limit_store_unavailable');
      const refused = await closed.enforce(auth('alice'));
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.response.status).toBe(503);
      await expect(open.usage({ subject: 'alice' })).rejects.toThrow();
    } finally {
      ownClient.disconnect();
      await own.stop();
    }
  });
});
