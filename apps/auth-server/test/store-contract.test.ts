import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent, AuditEventType } from '@gatehouse/audit';
import { type RunningRedis, startRedis } from '@gatehouse/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FederatedAccounts } from '../src/accounts/federated-accounts.js';
import { RedisStore } from '../src/store/redis-store.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';

/**
 * One contract, every store: SQLite in memory, SQLite on disk, and a real redis-server. What the
 * authorization server relies on (expiry, consume-once, grant-wide revocation, lookups, users,
 * keys, secrets, client reaping) must hold the same on each.
 */

let redis: RunningRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stores: Array<[string, () => Promise<Store>]> = [
  ['SQLite in memory', async () => new SqliteStore({ kind: 'memory' })],
  [
    'SQLite on disk',
    async () =>
      new SqliteStore({
        kind: 'sqlite',
        path: join(mkdtempSync(join(tmpdir(), 'gatehouse-store-')), 'auth.db'),
      }),
  ],
  [
    'Redis',
    async () => {
      const store = await RedisStore.connect(redis.url);
      // A fresh database for every test: the contract assumes an empty store.
      const { Redis } = await import('ioredis');
      const admin = new Redis(redis.url);
      await admin.flushdb();
      admin.disconnect();
      return store;
    },
  ],
];

describe('Redis store across connections (one per instance)', () => {
  it('holds a lock for one instance at a time', async () => {
    const [one, two] = [await RedisStore.connect(redis.url), await RedisStore.connect(redis.url)];
    try {
      const order: string[] = [];
      const hold = (store: Store, name: string) =>
        store.withLock('shared', async () => {
          order.push(`${name} in`);
          await sleep(100);
          order.push(`${name} out`);
        });
      await Promise.all([hold(one, 'one'), hold(two, 'two')]);
      expect([order[0]?.split(' ')[1], order[1]?.split(' ')[1]]).toEqual(['in', 'out']);
      expect([order[2]?.split(' ')[1], order[3]?.split(' ')[1]]).toEqual(['in', 'out']);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe.each(stores)('%s store', (_name, open) => {
  let store: Store;
  beforeEach(async () => {
    store = await open();
    return () => store.close();
  });

  it('keeps federated accounts without expiry: created, updated at the next sign-in, removed with their grants', async () => {
    const accounts = new FederatedAccounts(store);
    const identity = {
      subject: 'kc-1',
      username: 'alice',
      email: 'alice@example.test',
      emailVerified: true,
      name: undefined,
      groups: ['mcp-admins'],
    };
    const first = await accounts.signedIn('corp', identity, 1_000);
    const again = await accounts.signedIn('corp', { ...identity, groups: [] }, 2_000);
    expect(again).toMatchObject({
      accountId: 'corp:kc-1',
      createdAt: 1_000,
      lastSignInAt: 2_000,
      groups: [],
    });
    expect(await accounts.get(first.accountId)).toEqual(again);
    expect((await accounts.list()).map((account) => account.accountId)).toEqual(['corp:kc-1']);
    await store.models.upsert('Grant', 'g-fed', { accountId: 'corp:kc-1', clientId: 'c' }, 60);
    await store.models.upsert(
      'RefreshToken',
      'rt-fed',
      { accountId: 'corp:kc-1', grantId: 'g-fed' },
      60,
    );
    expect(await accounts.remove('corp:kc-1')).toBe(true);
    expect(await accounts.get('corp:kc-1')).toBeUndefined();
    expect(await store.models.find('RefreshToken', 'rt-fed')).toBeUndefined();
    expect(await accounts.remove('corp:kc-1')).toBe(false);
  });

  it('keeps the audit trail: filters by actor, client, grant, type and time, newest kept under a limit, pruned by age', async () => {
    const event = (
      at: number,
      type: AuditEventType,
      actor: string,
      extra: Partial<AuditEvent> = {},
    ) => store.audit.append([{ at, type, outcome: 'success', actor, client: 'c1', ...extra }]);
    await event(1_000, 'sign_in', 'alice');
    await event(2_000, 'token_issued', 'alice', { grant: 'g1', detail: { scope: 'mcp:tools' } });
    await event(2_000, 'token_issued', 'alice', { grant: 'g1', detail: { scope: 'mcp:tools' } });
    await event(3_000, 'token_refreshed', 'bob', { client: 'c2', grant: 'g2', outcome: 'failure' });
    await event(4_000, 'token_refreshed', 'alice', { grant: 'g1', requestId: 'r-4' });
    // A batch is one write; an empty one writes nothing.
    await store.audit.append([]);
    const all = await store.audit.query({});
    expect(all.map((e) => e.at)).toEqual([1_000, 2_000, 2_000, 3_000, 4_000]);
    // Two equal events in the same millisecond both stay.
    expect(all[1]).toEqual({
      at: 2_000,
      type: 'token_issued',
      outcome: 'success',
      actor: 'alice',
      client: 'c1',
      grant: 'g1',
      detail: { scope: 'mcp:tools' },
    });
    expect((await store.audit.query({ actor: 'bob' })).map((e) => e.outcome)).toEqual(['failure']);
    expect(await store.audit.query({ client: 'c2' })).toHaveLength(1);
    expect((await store.audit.query({ grant: 'g1' })).map((e) => e.at)).toEqual([
      2_000, 2_000, 4_000,
    ]);
    expect(
      (await store.audit.query({ types: ['sign_in', 'token_refreshed'] })).map((e) => e.type),
    ).toEqual(['sign_in', 'token_refreshed', 'token_refreshed']);
    expect((await store.audit.query({ since: 2_000, until: 4_000 })).map((e) => e.at)).toEqual([
      2_000, 2_000, 3_000,
    ]);
    expect((await store.audit.query({ limit: 2 })).map((e) => e.at)).toEqual([3_000, 4_000]);
    expect(
      (await store.audit.query({ actor: 'alice', types: ['token_refreshed'] }))[0]?.requestId,
    ).toBe('r-4');
    expect(await store.audit.prune(2_500)).toBe(3);
    expect((await store.audit.query({})).map((e) => e.at)).toEqual([3_000, 4_000]);
  });

  it('tells when each client was last used', async () => {
    await store.touchClient('c1', 1_000);
    await store.touchClient('c1', 3_000);
    await store.touchClient('c2', 2_000);
    expect(Object.fromEntries(await store.clientLastUsed())).toEqual({ c1: 3_000, c2: 2_000 });
  });

  it("lists an account's live grants (its connected apps)", async () => {
    await store.models.upsert('Grant', 'g-a1', { accountId: 'alice', clientId: 'c1' }, 60);
    await store.models.upsert('Grant', 'g-a2', { accountId: 'alice', clientId: 'c2' }, 60);
    await store.models.upsert('Grant', 'g-b1', { accountId: 'bob', clientId: 'c1' }, 60);
    await store.models.upsert('Grant', 'g-a3', { accountId: 'alice', clientId: 'c3' }, 1);
    // A grant without a client yet (oidc-provider saves some before the client is known) counts.
    await store.models.upsert('Grant', 'g-a4', { accountId: 'alice' }, 60);
    await store.models.destroy('Grant', 'g-a2');
    await sleep(1100);
    const ids = (await store.grantsOf('alice')).map((grant) => grant.id);
    expect(ids.sort()).toEqual(['g-a1', 'g-a4']);
    const byId = new Map((await store.grantsOf('alice')).map((grant) => [grant.id, grant.payload]));
    expect(byId.get('g-a1')).toMatchObject({ clientId: 'c1' });
    expect(await store.grantsOf('nobody')).toEqual([]);
  });

  it('keeps per-grant activity (last issued, refreshed, used) that never moves back', async () => {
    const t = Date.now() - 60_000;
    const at = (type: AuditEventType, offset: number, grant: string, outcome = 'success') => ({
      at: t + offset,
      type,
      outcome: outcome as AuditEvent['outcome'],
      grant,
    });
    await store.audit.append([
      at('token_issued', 1_000, 'g1'),
      at('token_refreshed', 2_000, 'g1'),
      // A failed refresh is not a refresh; a failed tool call is still a use.
      at('token_refreshed', 2_500, 'g1', 'failure'),
      at('tool_call', 3_000, 'g1', 'failure'),
      at('token_issued', 1_500, 'g2'),
      // Not activity.
      at('grant_revoked', 1_600, 'g3'),
    ]);
    // A later batch with older times (another instance's, late) changes nothing.
    await store.audit.append([at('token_issued', 500, 'g1'), at('tool_call', 100, 'g1')]);
    await store.audit.append([at('token_refreshed', 4_000, 'g2')]);
    expect(Object.fromEntries(await store.audit.activity(['g1', 'g2', 'g3', 'none']))).toEqual({
      g1: { issuedAt: t + 1_000, refreshedAt: t + 2_000, usedAt: t + 3_000 },
      g2: { issuedAt: t + 1_500, refreshedAt: t + 4_000 },
    });
    expect((await store.audit.activity([])).size).toBe(0);
  });

  it('keeps a model entry until it expires', async () => {
    await store.models.upsert('AccessToken', 'at1', { accountId: 'alice' }, 1);
    await store.models.upsert('Client', 'c1', { client_id: 'c1' }, undefined);
    expect(await store.models.find('AccessToken', 'at1')).toEqual({ accountId: 'alice' });
    await sleep(1100);
    expect(await store.models.find('AccessToken', 'at1')).toBeUndefined();
    expect(await store.models.find('Client', 'c1')).toEqual({ client_id: 'c1' });
  });

  it('consumes once: the first consumption time stays, and an upsert does not clear it', async () => {
    await store.models.upsert('AuthorizationCode', 'code1', { grantId: 'g1' }, 60);
    await store.models.consume('AuthorizationCode', 'code1');
    const first = (await store.models.find('AuthorizationCode', 'code1'))?.consumed;
    expect(typeof first).toBe('number');
    await sleep(1100);
    await store.models.consume('AuthorizationCode', 'code1');
    await store.models.upsert('AuthorizationCode', 'code1', { grantId: 'g1', extra: 1 }, 60);
    expect(await store.models.find('AuthorizationCode', 'code1')).toEqual({
      grantId: 'g1',
      extra: 1,
      consumed: first,
    });
  });

  it('finds by uid and by user code, and not after destroy', async () => {
    await store.models.upsert('Interaction', 'i1', { uid: 'u-1' }, 60);
    await store.models.upsert('DeviceCode', 'd1', { userCode: 'ABCD-EFGH' }, 60);
    expect(await store.models.findByUid('Interaction', 'u-1')).toEqual({ uid: 'u-1' });
    expect(await store.models.findByUserCode('DeviceCode', 'ABCD-EFGH')).toEqual({
      userCode: 'ABCD-EFGH',
    });
    expect(await store.models.findByUid('Session', 'u-1')).toBeUndefined();
    await store.models.destroy('Interaction', 'i1');
    expect(await store.models.findByUid('Interaction', 'u-1')).toBeUndefined();
  });

  it('revokes everything of one grant across models, and nothing of another grant', async () => {
    await store.models.upsert('AccessToken', 'a', { grantId: 'g1' }, 60);
    await store.models.upsert('RefreshToken', 'r', { grantId: 'g1' }, 600);
    await store.models.upsert('AuthorizationCode', 'c', { grantId: 'g1' }, 60);
    await store.models.upsert('AccessToken', 'other', { grantId: 'g2' }, 60);
    await store.models.revokeByGrantId('g1');
    expect(await store.models.find('AccessToken', 'a')).toBeUndefined();
    expect(await store.models.find('RefreshToken', 'r')).toBeUndefined();
    expect(await store.models.find('AuthorizationCode', 'c')).toBeUndefined();
    expect(await store.models.find('AccessToken', 'other')).toEqual({ grantId: 'g2' });
    expect(await store.models.count('RefreshToken')).toBe(0);
  });

  it('lists and counts one model, and cleanup forgets expired entries', async () => {
    await store.models.upsert('Client', 'b', { n: 2 }, undefined);
    await store.models.upsert('Client', 'a', { n: 1 }, undefined);
    await store.models.upsert('Session', 's', {}, 1);
    expect(await store.models.list('Client')).toEqual([
      { id: 'a', payload: { n: 1 } },
      { id: 'b', payload: { n: 2 } },
    ]);
    expect(await store.models.count('Client')).toBe(2);
    await sleep(1100);
    expect(await store.models.list('Session')).toEqual([]);
    expect(await store.models.cleanup()).toBe(1);
    expect(await store.models.count('Session')).toBe(0);
    expect(await store.models.count('Client')).toBe(2);
  });

  it('remembers the latest live grant of a user for a client', async () => {
    expect(await store.latestGrantId('alice', 'c1')).toBeUndefined();
    await store.models.upsert('Grant', 'g-old', { accountId: 'alice', clientId: 'c1' }, 60);
    await store.models.upsert('Grant', 'g-other', { accountId: 'bob', clientId: 'c1' }, 60);
    await sleep(5);
    await store.models.upsert('Grant', 'g-new', { accountId: 'alice', clientId: 'c1' }, 120);
    expect(await store.latestGrantId('alice', 'c1')).toBe('g-new');
    await store.models.destroy('Grant', 'g-new');
    expect(await store.latestGrantId('alice', 'c1')).not.toBe('g-new');
  });

  it('stores users, keeping the creation time when the password changes', async () => {
    await store.putUser('alice', 'hash-1');
    const created = (await store.getUser('alice'))?.createdAt;
    await sleep(5);
    await store.putUser('alice', 'hash-2');
    expect(await store.getUser('alice')).toEqual({
      username: 'alice',
      passwordHash: 'hash-2',
      createdAt: created,
    });
    await store.putUser('bob', 'hash-3');
    expect(await store.listUsers()).toEqual(['alice', 'bob']);
    expect(await store.deleteUser('bob')).toBe(true);
    expect(await store.deleteUser('bob')).toBe(false);
    expect(await store.getUser('bob')).toBeUndefined();
  });

  it('keeps signing keys newest first, retires all but one per algorithm, and deletes old retired ones', async () => {
    const key = (kid: string, alg: string, createdAt: number) => ({
      kid,
      alg,
      privateJwk: '{}',
      createdAt,
      retiredAt: null,
    });
    await store.addKey(key('rs-1', 'RS256', 1000));
    await store.addKey(key('es-1', 'ES256', 1500));
    await store.addKey(key('rs-2', 'RS256', 2000));
    expect((await store.listKeys()).map((k) => k.kid)).toEqual(['rs-2', 'es-1', 'rs-1']);
    await store.retireKeys('RS256', 'rs-2', 3000);
    const keys = await store.listKeys();
    expect(keys.find((k) => k.kid === 'rs-1')?.retiredAt).toBe(3000);
    expect(keys.find((k) => k.kid === 'rs-2')?.retiredAt).toBeNull();
    expect(keys.find((k) => k.kid === 'es-1')?.retiredAt).toBeNull();
    expect(await store.deleteKeysRetiredBefore(2999)).toBe(0);
    expect(await store.deleteKeysRetiredBefore(3001)).toBe(1);
    expect((await store.listKeys()).map((k) => k.kid)).toEqual(['rs-2', 'es-1']);
  });

  it('creates a secret once: later callers get the first value', async () => {
    const first = await store.secret('cookie-key', () => 'first');
    const second = await store.secret('cookie-key', () => 'second');
    expect([first, second]).toEqual(['first', 'first']);
  });

  it('reaps clients idle since their last use (else since registration)', async () => {
    const now = Date.now();
    const issued = (ms: number) => ({ client_id_issued_at: Math.floor(ms / 1000) });
    await store.models.upsert('Client', 'used-recently', issued(now - 10_000_000), undefined);
    await store.models.upsert('Client', 'used-long-ago', issued(now - 10_000_000), undefined);
    await store.models.upsert('Client', 'new', issued(now), undefined);
    await store.touchClient('used-recently', now - 1000);
    await store.touchClient('used-long-ago', now - 5_000_000);
    expect(await store.reapIdleClients(1_000_000, now)).toEqual(['used-long-ago']);
    expect((await store.models.list('Client')).map((c) => c.id)).toEqual(['new', 'used-recently']);
  });

  it('counts hits in a fixed window that resets', async () => {
    expect(await store.counters.countHit('rate:ip', 300)).toMatchObject({ count: 1 });
    const second = await store.counters.countHit('rate:ip', 300);
    expect(second.count).toBe(2);
    expect(second.resetInMs).toBeGreaterThan(0);
    expect(second.resetInMs).toBeLessThanOrEqual(300);
    expect((await store.counters.countHit('rate:other', 300)).count).toBe(1);
    await sleep(350);
    expect((await store.counters.countHit('rate:ip', 300)).count).toBe(1);
  });

  it('keeps events in a sliding window, oldest first, until cleared', async () => {
    const now = Date.now();
    await store.counters.addEvent('login:user:alice', now - 5000, 10_000);
    await store.counters.addEvent('login:user:alice', now - 20_000, 10_000);
    await store.counters.addEvent('login:user:alice', now - 1000, 10_000);
    expect(await store.counters.recentEvents('login:user:alice', 10_000, now)).toEqual([
      now - 5000,
      now - 1000,
    ]);
    await store.counters.clearEvents('login:user:alice');
    expect(await store.counters.recentEvents('login:user:alice', 10_000, now)).toEqual([]);
  });

  it('keeps short-lived values until they expire or are deleted', async () => {
    await store.counters.putValue('v1', 'one', 300);
    await store.counters.putValue('v2', 'two', 5000);
    expect(await store.counters.getValue('v1')).toBe('one');
    await store.counters.deleteValue('v2');
    expect(await store.counters.getValue('v2')).toBeUndefined();
    await sleep(350);
    expect(await store.counters.getValue('v1')).toBeUndefined();
  });

  it('answers ping and reports itself available', async () => {
    expect(await store.ping()).toBe(true);
    expect(store.available()).toBe(true);
  });

  it('runs lock holders one at a time', async () => {
    let inside = 0;
    let most = 0;
    const hold = () =>
      store.withLock('test', async () => {
        inside += 1;
        most = Math.max(most, inside);
        await sleep(50);
        inside -= 1;
      });
    await Promise.all([hold(), hold(), hold()]);
    expect(most).toBe(1);
  });
});
