import { randomUUID } from 'node:crypto';
import {
  createDpopHolder,
  createDpopProof,
  type DpopHolder,
  type RunningRedis,
  startRedis,
} from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateNodeRequest } from '../src/adapters/node.js';
import {
  createRedisReplayStore,
  createResourceServer,
  DEFAULT_REPLAY_KEY_PREFIX,
  type DpopReplayStore,
  type RedisSetNxClient,
} from '../src/index.js';
import { listen, send } from './support/http.js';
import { recordingLogger, TestIssuer } from './support/test-issuer.js';

/**
 * The shared DPoP replay store: its key and TTL arithmetic against a recording client, its
 * semantics against a real redis-server (Debian's, started by testkit on a free port), and what a
 * resource server answers when the store is shared, and when it is down.
 */

const RESOURCE = 'http://localhost:3000/mcp';

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createRedisReplayStore: keys and TTL (recording client)', () => {
  type SetCall = [string, string, string, number, string];
  const recording = (answer: 'OK' | null | string = 'OK') => {
    const calls: SetCall[] = [];
    const client: RedisSetNxClient = {
      async set(key, value, mode, ms, condition) {
        calls.push([key, value, mode, ms, condition]);
        return answer as 'OK' | null;
      },
    };
    return { calls, client };
  };

  it('sends one SET NX PX under the prefix with a fixed-length hash of the key', async () => {
    const { calls, client } = recording();
    const store = createRedisReplayStore(client, { now: () => 1_000_000 });
    const jti = `${'x'.repeat(5000)}\r\n`;
    expect(await store.remember(`thumb:${jti}`, 1_065_000)).toBe(true);
    expect(calls).toHaveLength(1);
    const [key, , mode, ms, condition] = calls[0] as SetCall;
    expect([mode, ms, condition]).toEqual(['PX', 65_000, 'NX']);
    expect(key).toMatch(new RegExp(`^${DEFAULT_REPLAY_KEY_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(key).not.toContain('x');
    await store.remember('thumb:other', 1_065_000);
    expect(calls[1]?.[0]).not.toBe(key);
  });

  it('uses the given prefix and never sends a TTL under 1 ms', async () => {
    const { calls, client } = recording();
    const store = createRedisReplayStore(client, { prefix: 'rs-a:', now: () => 5000 });
    await store.remember('k', 4000);
    await store.remember('k', 5000.2);
    expect(calls.map((call) => call[3])).toEqual([1, 1]);
    expect(calls[0]?.[0].startsWith('rs-a:')).toBe(true);
  });

  it('answers false for null and rejects an answer that is neither OK nor null', async () => {
    expect(await createRedisReplayStore(recording(null).client).remember('k', Date.now())).toBe(
      false,
    );
    await expect(
      createRedisReplayStore(recording('QUEUED').client).remember('k', Date.now() + 1000),
    ).rejects.toThrow('unexpected answer to SET NX');
  });
});

describe('createRedisReplayStore against a real redis-server', () => {
  let redis: RunningRedis;
  let client: Redis;
  let store: DpopReplayStore;

  beforeAll(async () => {
    redis = await startRedis();
    client = await redisClient(redis);
    store = createRedisReplayStore(client, { prefix: `test:${randomUUID()}:` });
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('remembers a key once: first true, then false; another key is independent', async () => {
    const expires = Date.now() + 60_000;
    expect(await store.remember('jkt:jti-1', expires)).toBe(true);
    expect(await store.remember('jkt:jti-1', expires)).toBe(false);
    expect(await store.remember('jkt:jti-2', expires)).toBe(true);
    expect(await store.remember('other-jkt:jti-1', expires)).toBe(true);
  });

  it('is shared: a second client (another instance) sees what the first remembered', async () => {
    const prefix = `test:${randomUUID()}:`;
    const other = await redisClient(redis);
    try {
      const a = createRedisReplayStore(client, { prefix });
      const b = createRedisReplayStore(other, { prefix });
      expect(await a.remember('jkt:shared', Date.now() + 60_000)).toBe(true);
      expect(await b.remember('jkt:shared', Date.now() + 60_000)).toBe(false);
    } finally {
      other.disconnect();
    }
  });

  it('lets exactly one of many concurrent attempts win', async () => {
    const expires = Date.now() + 60_000;
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => store.remember('jkt:raced', expires)),
    );
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('forgets a key when it expires, and sets the TTL from the expiry', async () => {
    expect(await store.remember('jkt:short', Date.now() + 150)).toBe(true);
    expect(await store.remember('jkt:short', Date.now() + 150)).toBe(false);
    await sleep(300);
    expect(await store.remember('jkt:short', Date.now() + 60_000)).toBe(true);

    const prefix = `ttl:${randomUUID()}:`;
    await createRedisReplayStore(client, { prefix }).remember('k', Date.now() + 30_000);
    const [key] = await client.keys(`${prefix}*`);
    const ttl = await client.pttl(key ?? '');
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('records an entry that is already due for 1 ms instead of failing', async () => {
    expect(await store.remember('jkt:late', Date.now() - 5000)).toBe(true);
  });

  it('rejects (fails closed) when redis-server is stopped', async () => {
    const own = await startRedis();
    const ownClient = await redisClient(own);
    try {
      const ownStore = createRedisReplayStore(ownClient);
      expect(await ownStore.remember('jkt:before', Date.now() + 60_000)).toBe(true);
      await own.stop();
      await expect(ownStore.remember('jkt:after', Date.now() + 60_000)).rejects.toThrow();
      // The key it already holds is not reported fresh either.
      await expect(ownStore.remember('jkt:before', Date.now() + 60_000)).rejects.toThrow();
    } finally {
      ownClient.disconnect();
      await own.stop();
    }
  });
});

describe('resource servers sharing a Redis replay store', () => {
  let issuer: TestIssuer;
  let redis: RunningRedis;
  const clients: Redis[] = [];
  const apps: Array<Awaited<ReturnType<typeof listen>>> = [];
  let holder: DpopHolder;
  const logger = recordingLogger();

  const proof = (token: string) => createDpopProof(holder, token, { htu: RESOURCE });

  async function instance(replayStore: DpopReplayStore): Promise<string> {
    const rs = createResourceServer({
      resource: RESOURCE,
      issuer: issuer.issuer,
      verification: { mode: 'jwt', jwksUri: issuer.jwksUri },
      dpop: { replayStore },
      logger: { warn: logger.warn },
    });
    const app = await listen(async (req, res) => {
      if (!(await authenticateNodeRequest(rs, req, res))) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    apps.push(app);
    return `${app.origin}/mcp`;
  }

  const call = (url: string, token: string, dpop: string) =>
    send(url, { method: 'POST', headers: { authorization: `DPoP ${token}`, dpop } });

  beforeAll(async () => {
    issuer = await TestIssuer.start({ resource: RESOURCE });
    redis = await startRedis();
    holder = await createDpopHolder();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    for (const client of clients) client.disconnect();
    await redis?.stop();
    await issuer?.close();
  });

  it('refuses on instance B a proof instance A accepted; a fresh proof passes on B', async () => {
    const prefix = `rs:${randomUUID()}:`;
    const [a, b] = await Promise.all(
      [0, 1].map(async () => {
        const client = await redisClient(redis);
        clients.push(client);
        return instance(createRedisReplayStore(client, { prefix }));
      }),
    );
    const token = await issuer.token({ cnf: { jkt: holder.jkt } });
    const once = await proof(token);
    expect((await call(a ?? '', token, once)).status).toBe(200);
    const replay = await call(b ?? '', token, once);
    expect(replay.status).toBe(401);
    expect(replay.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
    expect((await call(b ?? '', token, await proof(token))).status).toBe(200);
  });

  it('answers 503 temporarily_unavailable, not 200, while Redis is down', async () => {
    const own = await startRedis();
    const client = await redisClient(own);
    clients.push(client);
    const url = await instance(createRedisReplayStore(client));
    const token = await issuer.token({ cnf: { jkt: holder.jkt } });
    expect((await call(url, token, await proof(token))).status).toBe(200);
    await own.stop();
    const res = await call(url, token, await proof(token));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json()).toMatchObject({
      error: 'temporarily_unavailable',
      error_description: 'The access token cannot be checked right now; try again later',
    });
    expect(logger.lines.at(-1)?.fields).toMatchObject({
      status: 503,
      reason: 'dpop_replay_store_unavailable',
    });
  });

  it('answers 503 for any store that throws, with a generic description', async () => {
    const url = await instance({
      remember() {
        throw new Error('secret-internal-detail');
      },
    });
    const token = await issuer.token({ cnf: { jkt: holder.jkt } });
    const res = await call(url, token, await proof(token));
    expect(res.status).toBe(503);
    expect(res.body).not.toContain('secret-internal-detail');
    expect(res.json().error).toBe('temporarily_unavailable');
  });
});
