import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditLog } from './audit-event.js';
import { RedisAuditLog } from './redis-audit-log.js';
import { AUDIT_SCHEMA, SqliteAuditLog } from './sqlite-audit-log.js';

/** An audit log opened by an app that has no store of its own (an MCP server). */
export interface OpenedAuditLog {
  readonly log: AuditLog;
  close(): Promise<void>;
}

/**
 * Opens the trail the authorization server keeps, from its `AUTH_STORE` value: `sqlite:<path>`
 * (the same file: SQLite serializes the two processes' writes) or `redis://…` / `rediss://…`.
 * Unreachable Redis fails here, with the reason, so a misconfiguration stops startup. Each client
 * library is loaded only when chosen (ioredis alone is ~20 MB of resident memory).
 */
export async function openAuditLog(
  location: string,
  options: { readonly retentionMs: number },
): Promise<OpenedAuditLog> {
  if (location.startsWith('sqlite:')) {
    const path = location.slice('sqlite:'.length);
    mkdirSync(dirname(path), { recursive: true });
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // The authorization server writing at the same moment makes a batch wait, at most this long.
    db.pragma('busy_timeout = 1000');
    db.exec(AUDIT_SCHEMA);
    return {
      log: new SqliteAuditLog(db),
      close: async () => {
        db.close();
      },
    };
  }
  const { Redis } = await import('ioredis');
  const redis = new Redis(location, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Failures after startup surface through the trail's writes (reported once per burst).
  let startupError: Error | undefined;
  let connected = false;
  redis.on('error', (error: Error) => {
    if (!connected) startupError ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
    // ioredis reports a database it could not SELECT as an event, not as a failed connect.
    if (startupError) throw startupError;
  } catch (error) {
    redis.disconnect();
    // ioredis rejects with "Connection is closed."; the socket's own error says why.
    const reason = (startupError ?? (error as Error)).message;
    const { hostname, port } = new URL(location);
    throw new Error(`Redis at ${hostname}:${port || 6379} is unreachable (${reason})`);
  }
  connected = true;
  return {
    log: new RedisAuditLog(redis, { retentionMs: options.retentionMs }),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
