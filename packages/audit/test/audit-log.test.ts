import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditStream } from '@gatehouse/logging';
import { type RunningRedis, startRedis } from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  createAuditTrail,
  type OpenedAuditLog,
  openSqliteAuditLog,
  RedisAuditLog,
} from '../src/index.js';

/** The trail at `location` on a connection of its own, as each app opens it. */
async function openAuditLog(location: string, retentionMs: number): Promise<OpenedAuditLog> {
  if (location.startsWith('sqlite:')) return openSqliteAuditLog(location.slice('sqlite:'.length));
  const redis = new Redis(location);
  return {
    log: new RedisAuditLog(redis, { retentionMs }),
    close: async () => {
      redis.disconnect();
    },
  };
}

/**
 * The trail several processes share: the authorization server and an MCP server (its tool calls)
 * on one SQLite file or one Redis, each through its own connection, as in production.
 */

let redis: RunningRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

const now = Date.now();
const toolCall = (grant: string, offset: number): AuditEvent => ({
  at: now + offset,
  type: 'tool_call',
  outcome: 'success',
  actor: 'alice',
  client: 'c1',
  grant,
  detail: { tool: 'whoami', duration_ms: '1.2' },
});
const issued = (grant: string, offset: number): AuditEvent => ({
  at: now + offset,
  type: 'token_issued',
  outcome: 'success',
  actor: 'alice',
  client: 'c1',
  grant,
});

describe.each([
  [
    'SQLite file',
    () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-audit-')), 'auth.db')}`,
  ],
  ['Redis', () => redis.url],
])('one trail, two writers: %s', (_name, location) => {
  it('shows each writer the events and grant activity of both', async () => {
    const where = location();
    const [authServer, mcpServer] = [
      await openAuditLog(where, 86_400_000),
      await openAuditLog(where, 86_400_000),
    ];
    try {
      const grant = `g-${where.length}-${Math.random()}`;
      await authServer.log.append([issued(grant, 0)]);
      await mcpServer.log.append([toolCall(grant, 10), toolCall(grant, 20)]);
      for (const reader of [authServer, mcpServer]) {
        const events = await reader.log.query({ grant });
        expect(events.map((event) => event.type)).toEqual([
          'token_issued',
          'tool_call',
          'tool_call',
        ]);
        expect(events[1]?.detail).toEqual({ tool: 'whoami', duration_ms: '1.2' });
        expect(Object.fromEntries(await reader.log.activity([grant]))).toEqual({
          [grant]: { issuedAt: now, usedAt: now + 20 },
        });
      }
    } finally {
      await authServer.close();
      await mcpServer.close();
    }
  });
});

describe('Redis grant activity', () => {
  it('expires a retention period after its latest time, and never leaves a key without expiry', async () => {
    const opened = await openAuditLog(redis.url, 60_000);
    const admin = new Redis(redis.url);
    try {
      const grant = `g-ttl-${Math.random()}`;
      await opened.log.append([issued(grant, -30_000)]);
      const key = `gatehouse:grant-activity:${grant}`;
      const first = await admin.pttl(key);
      expect(first).toBeGreaterThan(20_000);
      expect(first).toBeLessThanOrEqual(30_000 + 1_000);
      // A later use moves the expiry with it.
      await opened.log.append([toolCall(grant, 0)]);
      expect(await admin.pttl(key)).toBeGreaterThan(50_000);
      // Older than the retention already: nothing is kept.
      const stale = `g-stale-${Math.random()}`;
      await opened.log.append([issued(stale, -120_000)]);
      expect(await admin.exists(`gatehouse:grant-activity:${stale}`)).toBe(0);
    } finally {
      admin.disconnect();
      await opened.close();
    }
  });
});

describe('the trail with a store and a log stream', () => {
  it('writes a line per event to the stream and batches events into the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-stream-'));
    const file = join(dir, 'audit.log');
    const opened = await openSqliteAuditLog(join(dir, 'auth.db'));
    const stream = createAuditStream({ service: 'test', format: 'json', destination: { file } });
    const trail = createAuditTrail({
      enabled: true,
      log: opened.log,
      stream,
      retentionMs: 86_400_000,
      onStoreError: () => {},
    });
    try {
      trail.record({ ...toolCall('g-s', 0), actor: 'x'.repeat(10_000) });
      // Recorded, not yet written: the store gets it within the batch window, or on flush.
      await trail.flush();
      const [stored] = await opened.log.query({ grant: 'g-s' });
      // Every field is bounded where the event is made.
      expect(stored?.actor?.length).toBeLessThanOrEqual(257);
      stream?.flush();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [line] = readFileSync(file, 'utf8').trim().split('\n');
      const parsed = JSON.parse(line ?? '{}');
      expect(parsed).toMatchObject({
        level: 30,
        service: 'test',
        stream: 'audit',
        msg: 'audit tool_call success',
        audit: { type: 'tool_call', grant: 'g-s', detail: { tool: 'whoami' } },
      });
      expect(typeof parsed.time).toBe('number');
    } finally {
      await opened.close();
    }
  });

  it('keeps recording to the stream when the store fails, and says so once per burst (stand-in store refusing every write)', async () => {
    const errors: unknown[] = [];
    const lines: string[] = [];
    const trail = createAuditTrail({
      enabled: true,
      log: {
        append: async () => {
          throw new Error('disk full');
        },
        query: async () => [],
        activity: async () => new Map(),
        prune: async () => 0,
      },
      stream: { write: (_event, message) => lines.push(message), flush: () => {} },
      retentionMs: 1_000,
      onStoreError: (error) => errors.push(error),
    });
    trail.record(toolCall('g-f', 0));
    await trail.flush();
    trail.record(toolCall('g-f', 1));
    await trail.flush();
    expect(lines).toEqual(['audit tool_call success', 'audit tool_call success']);
    expect(errors).toHaveLength(1);
  });
});
