import { describe, expect, it } from 'vitest';
import {
  type AuthInfo,
  ConfigurationError,
  createMemoryRateLimitStore,
  createRateLimiter,
  DEFAULT_RATE_LIMIT_MAX_KEYS,
  type RateLimitCell,
  type RateLimitDecision,
  type RateLimiterOptions,
  type RateLimitStore,
} from '../src/index.js';
import { recordingLogger } from './support/test-issuer.js';

/**
 * The rate limiter's rules against its in-memory store, on an injectable clock (no sleeps): GCRA
 * arithmetic, per-subject and per-client rules together, client-credentials tokens, hostile keys,
 * bounded memory, store failures, usage, and the headers and responses `enforce` builds.
 */

const auth = (subject: string | undefined, clientId = 'client-1', claims = {}): AuthInfo => ({
  token: 'not-a-real-token',
  clientId,
  scopes: ['mcp:tools'],
  extra: { subject, issuer: 'https://as.example', tokenType: 'Bearer', claims },
});

/** A limiter on a clock the test moves (`options.now` is replaced). */
function clocked(options: RateLimiterOptions, start = 1_700_000_000_000) {
  const clock = { now: start };
  const limiter = createRateLimiter({ ...options, now: () => clock.now });
  return { clock, limiter };
}

const allowedOf = async (
  limiter: { check(a: AuthInfo): Promise<RateLimitDecision> },
  a: AuthInfo,
  n: number,
) => {
  let allowed = 0;
  for (let i = 0; i < n; i++) if ((await limiter.check(a)).allowed) allowed += 1;
  return allowed;
};

describe('createRateLimiter: GCRA on one rule', () => {
  it('allows `limit` requests at once, then refuses with Retry-After until an interval has passed', async () => {
    const { clock, limiter } = clocked({ key: 'subject', limit: 3, windowMs: 60_000 });
    const start = clock.now;
    const remaining = [];
    for (let i = 0; i < 3; i++) {
      const decision = await limiter.check(auth('alice'));
      expect(decision.allowed).toBe(true);
      if (decision.reason === 'within_limit') remaining.push(decision.remaining);
    }
    expect(remaining).toEqual([2, 1, 0]);
    const refused = await limiter.check(auth('alice'));
    expect(refused).toMatchObject({
      allowed: false,
      reason: 'limit_exceeded',
      policy: 'subject',
      limit: 3,
      remaining: 0,
      resetAt: start + 60_000,
      retryAfterSeconds: 20,
    });
    clock.now = start + 19_999;
    expect(await limiter.check(auth('alice'))).toMatchObject({
      allowed: false,
      retryAfterSeconds: 1,
    });
    clock.now = start + 20_000;
    expect(await limiter.check(auth('alice'))).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('is whole again once the window has passed', async () => {
    const { clock, limiter } = clocked({ key: 'subject', limit: 3, windowMs: 60_000 });
    expect(await allowedOf(limiter, auth('alice'), 5)).toBe(3);
    clock.now += 60_000;
    expect(await allowedOf(limiter, auth('alice'), 5)).toBe(3);
  });

  it('has no window edge where twice the limit passes at once (unlike a fixed window)', async () => {
    const { clock, limiter } = clocked({ key: 'subject', limit: 10, windowMs: 10_000 }, 0);
    clock.now = 9_999;
    expect(await allowedOf(limiter, auth('alice'), 10)).toBe(10);
    // A fixed window would start afresh here and let 10 more through within 2 ms.
    clock.now = 10_000;
    expect(await allowedOf(limiter, auth('alice'), 10)).toBe(0);
    clock.now = 10_999;
    expect(await allowedOf(limiter, auth('alice'), 10)).toBe(1);
  });

  it('does not count refused requests: hammering does not push the retry further out', async () => {
    const { clock, limiter } = clocked({ key: 'subject', limit: 2, windowMs: 2_000 });
    expect(await allowedOf(limiter, auth('alice'), 2)).toBe(2);
    expect(await allowedOf(limiter, auth('alice'), 100)).toBe(0);
    clock.now += 1_000;
    expect(await allowedOf(limiter, auth('alice'), 3)).toBe(1);
  });

  it('keeps exact counts for limits that do not divide the window', async () => {
    const { clock, limiter } = clocked({ key: 'client', limit: 3, windowMs: 1_000 });
    for (let round = 0; round < 50; round++) {
      expect(await allowedOf(limiter, auth('alice'), 4)).toBe(3);
      clock.now += 1_000;
    }
  });
});

describe('createRateLimiter: per-subject and per-client rules together', () => {
  const limits = [
    { key: 'subject' as const, limit: 2, windowMs: 60_000 },
    { key: 'client' as const, limit: 5, windowMs: 60_000 },
  ];

  it('limits a user across clients, and a client across users, independently', async () => {
    const { limiter } = clocked({ limits });
    expect(await allowedOf(limiter, auth('alice', 'c1'), 2)).toBe(2);
    // A user hammering: refused by the subject rule, through this client or any other.
    expect(await limiter.check(auth('alice', 'c1'))).toMatchObject({
      allowed: false,
      policy: 'subject',
    });
    expect((await limiter.check(auth('alice', 'c2'))).allowed).toBe(false);
    // Other users of c1 are not affected by alice's limit.
    expect(await allowedOf(limiter, auth('bob', 'c1'), 1)).toBe(1);
    expect(await allowedOf(limiter, auth('carol', 'c1'), 1)).toBe(1);
    expect(await allowedOf(limiter, auth('dave', 'c1'), 1)).toBe(1);
    // A client hammering for many users: c1 has used its 5.
    expect(await limiter.check(auth('erin', 'c1'))).toMatchObject({
      allowed: false,
      policy: 'client',
    });
    // erin through another client is fine.
    expect((await limiter.check(auth('erin', 'c2'))).allowed).toBe(true);
  });

  it('counts a request against no rule when one refuses it', async () => {
    const { limiter } = clocked({
      limits: [
        { key: 'subject', limit: 1, windowMs: 60_000 },
        { key: 'client', limit: 3, windowMs: 60_000 },
      ],
    });
    expect((await limiter.check(auth('alice', 'c1'))).allowed).toBe(true);
    expect(await allowedOf(limiter, auth('alice', 'c1'), 10)).toBe(0);
    // Had alice's refusals counted against c1, bob and carol would be refused.
    expect((await limiter.check(auth('bob', 'c1'))).allowed).toBe(true);
    expect((await limiter.check(auth('carol', 'c1'))).allowed).toBe(true);
    expect((await limiter.check(auth('dave', 'c1'))).allowed).toBe(false);
  });

  it('reports every rule, and the binding one: least left, or longest wait', async () => {
    const { limiter } = clocked({ limits });
    const first = await limiter.check(auth('alice', 'c1'));
    expect(first).toMatchObject({ policy: 'subject', limit: 2, remaining: 1 });
    expect(first.policies.map((p) => [p.name, p.remaining])).toEqual([
      ['subject', 1],
      ['client', 4],
    ]);
  });

  it('limits a token without a subject (client credentials) by its client', async () => {
    const { limiter } = clocked({ key: 'subject', limit: 2, windowMs: 60_000 });
    const service = auth(undefined, 'svc');
    expect(await allowedOf(limiter, service, 2)).toBe(2);
    // Were subject-less tokens not counted, this would pass.
    expect(await limiter.check(service)).toMatchObject({ allowed: false, policy: 'subject' });
    expect((await limiter.check(auth('', 'svc'))).allowed).toBe(false);
    expect((await limiter.check(auth(undefined, 'svc-2'))).allowed).toBe(true);
    // A user whose subject is spelled like that client id has a counter of its own.
    expect((await limiter.check(auth('svc', 'c1'))).allowed).toBe(true);
  });

  it('counts a client-credentials token under the client rule too', async () => {
    const { limiter } = clocked({ limits });
    expect(await allowedOf(limiter, auth(undefined, 'svc'), 2)).toBe(2);
    const usage = await limiter.usage({ clientId: 'svc' });
    expect(usage.map((u) => [u.name, u.used])).toEqual([
      ['subject', 2],
      ['client', 2],
    ]);
  });

  it('keys a custom rule by what its function returns, and skips it on undefined', async () => {
    const { limiter } = clocked({
      key: (a) => (typeof a.extra.claims.tenant === 'string' ? a.extra.claims.tenant : undefined),
      limit: 1,
      windowMs: 60_000,
    });
    expect((await limiter.check(auth('alice', 'c1', { tenant: 'acme' }))).allowed).toBe(true);
    expect((await limiter.check(auth('bob', 'c2', { tenant: 'acme' }))).allowed).toBe(false);
    expect((await limiter.check(auth('bob', 'c2', { tenant: 'other' }))).allowed).toBe(true);
    expect(await limiter.check(auth('bob', 'c2'))).toEqual({
      allowed: true,
      reason: 'not_limited',
      retryAfterSeconds: 0,
      policies: [],
    });
  });
});

describe('createRateLimiter: keys', () => {
  /** A memory store that also records the keys it is handed. */
  function recordingStore() {
    const inner = createMemoryRateLimitStore();
    const keys: string[] = [];
    const store: RateLimitStore = {
      consume(cells: readonly RateLimitCell[], nowUs: number) {
        keys.push(...cells.map((cell) => cell.key));
        return inner.consume(cells, nowUs);
      },
      peek: (k, nowUs) => inner.peek(k, nowUs),
    };
    return { keys, store };
  }

  it('hashes identities: hostile subjects neither collide with others nor bloat keys', async () => {
    const { keys, store } = recordingStore();
    const { limiter } = clocked({
      limits: [
        { key: 'subject', limit: 1, windowMs: 60_000 },
        { key: 'client', limit: 1, windowMs: 60_000 },
      ],
      store,
    });
    const huge = `alice${'x'.repeat(100_000)}`;
    const subjects = [
      'alice',
      'alice:',
      ':alice',
      'alice\u0000',
      's\u0000alice',
      'c\u0000alice',
      'subject\u0000s\u0000alice',
      'gatehouse:rate:alice',
      huge,
      `${huge}y`,
    ];
    // Each subject through its own client; every one must get its single request.
    for (const [i, subject] of subjects.entries()) {
      expect((await limiter.check(auth(subject, `client-${i}`))).allowed).toBe(true);
    }
    // A client named like a subject is a different counter too.
    expect((await limiter.check(auth('zed', 'alice'))).allowed).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key).toMatch(/^(subject|client):[A-Za-z0-9_-]{43}$/);
    expect(keys.join('')).not.toContain('alice');
  });

  it('two in-memory limiters count on their own; two on one store count together', async () => {
    const rule = { key: 'subject' as const, limit: 2, windowMs: 60_000 };
    const a = createRateLimiter(rule);
    const b = createRateLimiter(rule);
    expect(await allowedOf(a, auth('alice'), 3)).toBe(2);
    expect(await allowedOf(b, auth('alice'), 3)).toBe(2);
    const store = createMemoryRateLimitStore();
    const c = createRateLimiter({ ...rule, store });
    const d = createRateLimiter({ ...rule, store });
    expect(await allowedOf(c, auth('alice'), 1)).toBe(1);
    expect(await allowedOf(d, auth('alice'), 3)).toBe(1);
  });
});

describe('createMemoryRateLimitStore: bounded memory', () => {
  it(`stays at ${DEFAULT_RATE_LIMIT_MAX_KEYS} counters with 100k distinct subjects`, async () => {
    const store = createMemoryRateLimitStore();
    const { limiter } = clocked({ key: 'subject', limit: 5, windowMs: 3_600_000, store });
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) => limiter.check(auth(`user-${batch * 1000 + i}`))),
      );
    }
    expect(store.size).toBe(DEFAULT_RATE_LIMIT_MAX_KEYS);
    // The most recent are the ones kept: the last user is still counted, the first is not.
    expect((await limiter.usage({ subject: 'user-99999' }))[0]?.used).toBe(1);
    expect((await limiter.usage({ subject: 'user-0' }))[0]?.used).toBe(0);
  }, 60_000);

  it('drops counters whose quota is whole again as requests come', async () => {
    const store = createMemoryRateLimitStore({ maxKeys: 1_000 });
    const { clock, limiter } = clocked({ key: 'subject', limit: 5, windowMs: 10_000, store });
    for (let i = 0; i < 500; i++) await limiter.check(auth(`old-${i}`));
    expect(store.size).toBe(500);
    clock.now += 10_000;
    for (let i = 0; i < 100; i++) await limiter.check(auth(`new-${i}`));
    expect(store.size).toBe(100);
  });

  it('checks its options', () => {
    expect(() => createMemoryRateLimitStore({ maxKeys: 0 })).toThrow(ConfigurationError);
  });
});

describe('createRateLimiter: a failing store', () => {
  const failing: RateLimitStore = {
    consume: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
    peek: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
  };

  it('fails open by default: requests pass uncounted, with a warning at most every 10 s', async () => {
    const logger = recordingLogger();
    const { clock, limiter } = clocked({
      key: 'subject',
      limit: 1,
      windowMs: 60_000,
      store: failing,
      logger: { warn: logger.warn },
    });
    for (let i = 0; i < 3; i++) {
      expect(await limiter.check(auth('alice'))).toEqual({
        allowed: true,
        reason: 'store_unavailable',
        retryAfterSeconds: 0,
        policies: [],
      });
    }
    const outcome = await limiter.enforce(auth('alice'));
    expect(outcome).toMatchObject({ ok: true, headers: {} });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.fields).toMatchObject({
      reason: 'rate_limit_store_unavailable',
      onStoreError: 'allow',
      failures: 1,
      detail: 'connect ECONNREFUSED 127.0.0.1:6379',
    });
    clock.now += 10_000;
    await limiter.check(auth('alice'));
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[1]?.fields.failures).toBe(4);
  });

  it("fails closed with onStoreError: 'refuse': 503 temporarily_unavailable", async () => {
    const logger = recordingLogger();
    const { limiter } = clocked({
      key: 'subject',
      limit: 1,
      windowMs: 60_000,
      store: failing,
      onStoreError: 'refuse',
      logger: { warn: logger.warn },
    });
    const outcome = await limiter.enforce(auth('alice'), { correlationId: 'req-1' });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.decision).toMatchObject({ allowed: false, reason: 'store_unavailable' });
    expect(outcome.response.status).toBe(503);
    expect(outcome.response.headers['retry-after']).toBe('5');
    expect(JSON.parse(outcome.response.body)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The request cannot be served right now; try again later',
      correlation_id: 'req-1',
    });
    expect(logger.lines[0]?.fields.onStoreError).toBe('refuse');
  });

  it('treats a store that throws synchronously as failing', async () => {
    const { limiter } = clocked({
      key: 'subject',
      limit: 1,
      windowMs: 60_000,
      store: {
        consume() {
          throw new Error('bug in a custom store');
        },
        peek: () => [],
      },
    });
    expect(await limiter.check(auth('alice'))).toMatchObject({
      allowed: true,
      reason: 'store_unavailable',
    });
  });

  it('treats a store answering for other cells as failing', async () => {
    const { limiter } = clocked({
      key: 'subject',
      limit: 1,
      windowMs: 60_000,
      onStoreError: 'refuse',
      store: { consume: async () => ({ recorded: true, tats: [] }), peek: async () => [] },
    });
    expect((await limiter.check(auth('alice'))).reason).toBe('store_unavailable');
  });

  it('rejects usage() when the store fails (an admin read has nothing to fall back on)', async () => {
    const { limiter } = clocked({ key: 'subject', limit: 1, windowMs: 60_000, store: failing });
    await expect(limiter.usage({ subject: 'alice' })).rejects.toThrow('ECONNREFUSED');
  });
});

describe('createRateLimiter: usage', () => {
  it('reads per-subject and per-client usage without counting', async () => {
    const { clock, limiter } = clocked({
      limits: [
        { key: 'subject', limit: 5, windowMs: 50_000 },
        { key: 'client', limit: 10, windowMs: 50_000 },
      ],
    });
    const start = clock.now;
    await allowedOf(limiter, auth('alice', 'c1'), 2);
    await allowedOf(limiter, auth('bob', 'c1'), 1);
    const alice = await limiter.usage({ subject: 'alice' });
    expect(alice).toEqual([
      {
        name: 'subject',
        limit: 5,
        windowMs: 50_000,
        used: 2,
        remaining: 3,
        resetAt: start + 20_000,
      },
    ]);
    expect(await limiter.usage({ subject: 'alice' })).toEqual(alice);
    expect((await limiter.usage({ subject: 'alice', clientId: 'c1' }))[1]).toMatchObject({
      name: 'client',
      used: 3,
      remaining: 7,
    });
    clock.now += 10_000;
    expect((await limiter.usage({ subject: 'alice' }))[0]?.used).toBe(1);
    clock.now += 10_000;
    expect((await limiter.usage({ subject: 'alice' }))[0]).toMatchObject({ used: 0, remaining: 5 });
    expect(await limiter.usage({})).toEqual([]);
  });
});

describe('createRateLimiter: enforce', () => {
  it('gives the RateLimit fields when allowed, and a 429 with Retry-After when refused', async () => {
    const logger = recordingLogger();
    const { limiter } = clocked({
      limits: [
        { key: 'subject', limit: 2, windowMs: 60_000 },
        { key: 'client', limit: 10, windowMs: 60_000, name: 'per-client' },
      ],
      logger: { warn: logger.warn },
    });
    const first = await limiter.enforce(auth('alice'));
    expect(first).toMatchObject({
      ok: true,
      headers: {
        'ratelimit-policy': '"subject";q=2;w=60, "per-client";q=10;w=60',
        ratelimit: '"subject";r=1;t=30, "per-client";r=9;t=6',
      },
    });
    await limiter.enforce(auth('alice'));
    const refused = await limiter.enforce(auth('alice'), { correlationId: 'req-42' });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers).toMatchObject({
      'retry-after': '30',
      'ratelimit-policy': '"subject";q=2;w=60, "per-client";q=10;w=60',
      ratelimit: '"subject";r=0;t=30, "per-client";r=8;t=6',
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    expect(JSON.parse(refused.response.body)).toEqual({
      error: 'rate_limit_exceeded',
      error_description: 'Too many requests; retry in 30 seconds',
      correlation_id: 'req-42',
    });
    expect(logger.lines.at(-1)).toEqual({
      message: 'request refused',
      fields: {
        correlationId: 'req-42',
        status: 429,
        reason: 'rate_limit_exceeded',
        policy: 'subject',
        retryAfterSeconds: 30,
        clientId: 'client-1',
        subject: 'alice',
      },
    });
  });

  it('sends Retry-After of at least 1 second, and no RateLimit fields with headers: false', async () => {
    const { limiter } = clocked({ key: 'subject', limit: 10, windowMs: 100, headers: false });
    await allowedOf(limiter, auth('alice'), 10);
    const refused = await limiter.enforce(auth('alice'));
    if (refused.ok) throw new Error('expected a refusal');
    expect(refused.decision.retryAfterSeconds).toBe(1);
    expect(refused.response.headers['retry-after']).toBe('1');
    expect(refused.response.headers.ratelimit).toBeUndefined();
  });

  it('never answers Retry-After: 0, even when a store refuses with quota left', async () => {
    const { limiter } = clocked({
      key: 'subject',
      limit: 5,
      windowMs: 60_000,
      store: { consume: async () => ({ recorded: false, tats: [0] }), peek: async () => [0] },
    });
    const refused = await limiter.enforce(auth('alice'));
    if (refused.ok) throw new Error('expected a refusal');
    expect(refused.decision.retryAfterSeconds).toBe(1);
    expect(refused.response.headers['retry-after']).toBe('1');
  });

  it('leaves out w for a window of a fraction of seconds', async () => {
    const { limiter } = clocked({ key: 'subject', limit: 4, windowMs: 1_500 });
    const outcome = await limiter.enforce(auth('alice'));
    expect(outcome.ok && outcome.headers['ratelimit-policy']).toBe('"subject";q=4');
  });
});

describe('createRateLimiter: options', () => {
  const rule = { key: 'subject' as const, limit: 10, windowMs: 1000 };
  it.each([
    ['a limit of 0', { ...rule, limit: 0 }, /limit/],
    ['a fractional window', { ...rule, windowMs: 1.5 }, /windowMs/],
    ['an unknown key', { ...rule, key: 'ip' }, /key/],
    ['a bad name', { ...rule, name: 'a "b"' }, /name/],
    ['no rules', { limits: [] }, /limits is empty/],
    ['two rules with one name', { limits: [rule, rule] }, /two rules are named 'subject'/],
    ['more than one request per µs', { ...rule, limit: 2_000_000 }, /per microsecond/],
    ['an unknown onStoreError', { ...rule, onStoreError: 'ignore' }, /onStoreError/],
  ])('refuses %s', (_, options, message) => {
    expect(() => createRateLimiter(options as RateLimiterOptions)).toThrow(ConfigurationError);
    expect(() => createRateLimiter(options as RateLimiterOptions)).toThrow(message);
  });
});
