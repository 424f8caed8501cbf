import type Database from 'better-sqlite3';
import {
  type AuditEvent,
  type AuditFilter,
  type AuditLog,
  type GrantActivity,
  latestActivity,
} from './audit-event.js';

/**
 * The audit trail in SQLite: one row per event, indexed by time only, and one row per grant with
 * its latest activity. Every index is written on every request that audits (a refresh grant, a
 * tool call), and queries (the CLI, the admin console) read a time range anyway; per-actor and
 * per-client indexes cost the refresh grant measurably (bench/src/audit-cost.ts).
 *
 * Several processes may share the file (the authorization server, its CLI, an MCP server writing
 * its tool calls): SQLite serializes their writes; each batch is one short transaction.
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
CREATE TABLE IF NOT EXISTS grant_activity (
  grant_id TEXT PRIMARY KEY,
  issued_at INTEGER,
  refreshed_at INTEGER,
  used_at INTEGER
) WITHOUT ROWID;
`;

/** Runs one database call; the authorization server passes one that maps outages to a 503. */
export type SqliteCall = <T>(call: () => T) => T;

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

interface ActivityRow {
  grant_id: string;
  issued_at: number | null;
  refreshed_at: number | null;
  used_at: number | null;
}

// Each time moves forward only (SQLite's two-argument MAX is NULL when either is).
const LATEST = (column: string) =>
  `${column} = COALESCE(MAX(${column}, excluded.${column}), ${column}, excluded.${column})`;

/** Grant ids per `IN (...)` query: well below SQLite's limit on bound parameters. */
const IDS_PER_QUERY = 500;

export class SqliteAuditLog implements AuditLog {
  readonly #db: Database.Database;
  readonly #call: SqliteCall;
  readonly #insert: Database.Statement;
  readonly #touch: Database.Statement;
  readonly #prune: Database.Statement;
  readonly #pruneActivity: Database.Statement;

  /** `db` must have {@link AUDIT_SCHEMA} (open-audit-log.ts creates it). */
  constructor(db: Database.Database, options: { readonly call?: SqliteCall } = {}) {
    this.#db = db;
    this.#call = options.call ?? ((call) => call());
    this.#insert = db.prepare(
      'INSERT INTO audit_events (at, type, outcome, actor, client, resource, grant_id, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#touch = db.prepare(
      `INSERT INTO grant_activity (grant_id, issued_at, refreshed_at, used_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (grant_id) DO UPDATE SET ${LATEST('issued_at')}, ${LATEST('refreshed_at')}, ${LATEST('used_at')}`,
    );
    this.#prune = db.prepare('DELETE FROM audit_events WHERE at < ?');
    this.#pruneActivity = db.prepare(
      'DELETE FROM grant_activity WHERE MAX(COALESCE(issued_at, 0), COALESCE(refreshed_at, 0), COALESCE(used_at, 0)) < ?',
    );
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
    for (const [grant, latest] of latestActivity(events)) {
      this.#touch.run(
        grant,
        latest.issuedAt ?? null,
        latest.refreshedAt ?? null,
        latest.usedAt ?? null,
      );
    }
  };

  async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    // One transaction: one commit for the batch, not one per event.
    this.#call(() => this.#db.transaction(this.#appendAll)(events));
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
    const rows = this.#call(
      () => this.#db.prepare(sql).all(...params, filter.limit ?? 1000) as Row[],
    );
    return rows.map(fromRow);
  }

  async activity(grantIds: readonly string[]): Promise<Map<string, GrantActivity>> {
    const activity = new Map<string, GrantActivity>();
    for (let i = 0; i < grantIds.length; i += IDS_PER_QUERY) {
      const ids = grantIds.slice(i, i + IDS_PER_QUERY);
      const rows = this.#call(
        () =>
          this.#db
            .prepare(
              `SELECT grant_id, issued_at, refreshed_at, used_at FROM grant_activity WHERE grant_id IN (${ids.map(() => '?').join(', ')})`,
            )
            .all(...ids) as ActivityRow[],
      );
      for (const row of rows) {
        activity.set(row.grant_id, {
          ...(row.issued_at === null ? {} : { issuedAt: row.issued_at }),
          ...(row.refreshed_at === null ? {} : { refreshedAt: row.refreshed_at }),
          ...(row.used_at === null ? {} : { usedAt: row.used_at }),
        });
      }
    }
    return activity;
  }

  async prune(before: number): Promise<number> {
    return this.#call(() => {
      this.#pruneActivity.run(before);
      return this.#prune.run(before).changes;
    });
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
