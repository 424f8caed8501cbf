import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditLog } from './audit-event.js';
import { AUDIT_SCHEMA, SqliteAuditLog } from './sqlite-audit-log.js';

/** An audit log opened by an app that has no store of its own (an MCP server). */
export interface OpenedAuditLog {
  readonly log: AuditLog;
  close(): Promise<void>;
}

/**
 * Opens the trail the authorization server keeps in SQLite (its `AUTH_STORE=sqlite:<path>`), from
 * another process: the same file, SQLite serializing the two processes' writes. (On Redis, a
 * {@link RedisAuditLog} on the app's own connection.) better-sqlite3 is loaded only when chosen.
 */
export async function openSqliteAuditLog(path: string): Promise<OpenedAuditLog> {
  const { default: Database } = await import('better-sqlite3');
  mkdirSync(dirname(path), { recursive: true });
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
