import type Database from 'better-sqlite3';
import type { AuditEvent, AuditFilter, AuditLog } from '../audit/audit-event.js';
import { sqliteCall } from './sqlite-call.js';

/**
 * The audit trail in SQLite: one row per event, indexed by time only. Every index is written on
 * every request that audits (a refresh grant), and queries (the CLI) read a time range anyway;
 * per-actor and per-client indexes cost the refresh grant measurably (bench/src/audit-cost.ts).
 */
export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  outcome TEXT NOT NULL,
  actor TEXT,
  client TEXT,
  resource TEXT,
  grant_id TEXT,
  request_id TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events (at);
`;

interface Row {
  at: number;
  type: string;
  outcome: string;
  actor: string | null;
  client: string | null;
  resource: string | null;
  grant_id: string | null;
  request_id: string | null;
  detail: string | null;
}

export class SqliteAuditLog implements AuditLog {
  readonly #insert: Database.Statement;
  readonly #prune: Database.Statement;
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO audit_events (at, type, outcome, actor, client, resource, grant_id, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#prune = db.prepare('DELETE FROM audit_events WHERE at < ?');
  }

  readonly #appendAll = (events: readonly AuditEvent[]) => {
    for (const event of events) {
      this.#insert.run(
        event.at,
        event.type,
        event.outcome,
        event.actor ?? null,
        event.client ?? null,
        event.resource ?? null,
        event.grant ?? null,
        event.requestId ?? null,
        event.detail ? JSON.stringify(event.detail) : null,
      );
    }
  };

  async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    // One transaction: one commit for the batch, not one per event.
    sqliteCall(() => this.#db.transaction(this.#appendAll)(events));
  }

  async query(filter: AuditFilter): Promise<AuditEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const equal = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    equal('actor', filter.actor);
    equal('client', filter.client);
    equal('grant_id', filter.grant);
    if (filter.types) {
      where.push(`type IN (${filter.types.map(() => '?').join(', ')})`);
      params.push(...filter.types);
    }
    if (filter.since !== undefined) {
      where.push('at >= ?');
      params.push(filter.since);
    }
    if (filter.until !== undefined) {
      where.push('at < ?');
      params.push(filter.until);
    }
    const sql = `SELECT * FROM (SELECT at, type, outcome, actor, client, resource, grant_id, request_id, detail, id FROM audit_events${
      where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''
    } ORDER BY at DESC, id DESC LIMIT ?) ORDER BY at, id`;
    const rows = sqliteCall(
      () => this.#db.prepare(sql).all(...params, filter.limit ?? 1000) as Row[],
    );
    return rows.map(fromRow);
  }

  async prune(before: number): Promise<number> {
    return sqliteCall(() => this.#prune.run(before).changes);
  }
}

function fromRow(row: Row): AuditEvent {
  return {
    at: row.at,
    type: row.type as AuditEvent['type'],
    outcome: row.outcome as AuditEvent['outcome'],
    ...(row.actor === null ? {} : { actor: row.actor }),
    ...(row.client === null ? {} : { client: row.client }),
    ...(row.resource === null ? {} : { resource: row.resource }),
    ...(row.grant_id === null ? {} : { grant: row.grant_id }),
    ...(row.request_id === null ? {} : { requestId: row.request_id }),
    ...(row.detail === null ? {} : { detail: JSON.parse(row.detail) as Record<string, string> }),
  };
}
