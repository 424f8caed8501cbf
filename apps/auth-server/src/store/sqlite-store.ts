import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { AUDIT_SCHEMA, SqliteAuditLog } from '@gatehouse/audit';
import Database from 'better-sqlite3';
import { MemoryCounters } from './memory-counters.js';
import { sqliteCall } from './sqlite-call.js';
import { SqliteModelStore } from './sqlite-models.js';
import {
  idleClientIds,
  type ModelPayload,
  type Store,
  type StoredKey,
  type StoredUser,
} from './store.js';

/**
 * All persistent state of the authorization server in one embedded SQLite database (WAL): every
 * oidc-provider model, users, signing keys and server secrets. `AUTH_STORE=memory` uses the same
 * code on an in-memory database, so tests exercise exactly what production runs. Every database
 * call goes through sqliteCall (sqlite-call.ts): the database failing (locked, disk full, read-only,
 * I/O error) rejects with StoreUnavailableError, which requests answer with a retryable 503.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS oidc_models (
  model TEXT NOT NULL,
  id TEXT NOT NULL,
  payload TEXT NOT NULL,
  grant_id TEXT,
  user_code TEXT,
  uid TEXT,
  expires_at INTEGER,
  consumed_at INTEGER,
  PRIMARY KEY (model, id)
);
CREATE INDEX IF NOT EXISTS oidc_models_grant ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_models_user_code ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_models_expiry ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;
-- latestGrantId at every authorization: one grant per authorization makes grants many.
CREATE INDEX IF NOT EXISTS oidc_models_grant_owner ON oidc_models (json_extract(payload, '$.accountId'), json_extract(payload, '$.clientId'), expires_at) WHERE model = 'Grant';
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
CREATE TABLE IF NOT EXISTS client_usage (
  client_id TEXT PRIMARY KEY,
  last_used_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly db: Database.Database;
  readonly models: SqliteModelStore;
  readonly counters = new MemoryCounters();
  readonly audit: SqliteAuditLog;
  /** The database file as opened, to notice it being moved away (see ping). */
  readonly #file: { readonly path: string; readonly dev: number; readonly ino: number } | undefined;

  constructor(location: { kind: 'memory' } | { kind: 'sqlite'; path: string }) {
    if (location.kind === 'sqlite') mkdirSync(dirname(location.path), { recursive: true });
    this.db = sqliteCall(
      () => new Database(location.kind === 'memory' ? ':memory:' : location.path),
    );
    sqliteCall(() => {
      // WAL: readers never block the writer; NORMAL sync is durable across process crashes (SIGKILL).
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      // Another process writing (the CLI) makes a write wait up to this long, then answer 503.
      // Short: better-sqlite3 is synchronous, so the wait stalls every request of this process.
      this.db.pragma('busy_timeout = 1000');
      this.db.exec(SCHEMA);
      this.db.exec(AUDIT_SCHEMA);
    });
    this.models = new SqliteModelStore(this.db);
    this.audit = new SqliteAuditLog(this.db, { call: sqliteCall });
    if (location.kind === 'sqlite') {
      const { dev, ino } = statSync(location.path);
      this.#file = { path: location.path, dev, ino };
    }
  }

  /** False once closed: requests are then refused with 503 (no database round trip). */
  available(): boolean {
    return this.db.open;
  }

  /** One SQLite file serves one process: an in-process lock is enough. */
  async withLock<T>(_name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#lock;
    let release = () => {};
    this.#lock = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #lock: Promise<void> = Promise.resolve();

  /** Prepared once, reused: preparing a statement costs more than running a lookup by key. */
  #statements = new Map<string, Database.Statement>();
  #sql(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** One statement, prepared once, run through sqliteCall: the first row. */
  #get<Row>(sql: string, ...params: unknown[]): Row | undefined {
    return sqliteCall(() => this.#sql(sql).get(...params) as Row | undefined);
  }

  #all<Row>(sql: string, ...params: unknown[]): Row[] {
    return sqliteCall(() => this.#sql(sql).all(...params) as Row[]);
  }

  #run(sql: string, ...params: unknown[]): Database.RunResult {
    return sqliteCall(() => this.#sql(sql).run(...params));
  }

  /**
   * For `/readyz`: reads the database (`SELECT 1` alone would not touch it), rejecting with
   * StoreUnavailableError when it cannot, and answers false when the file at the configured path
   * is no longer the one open. SQLite in WAL mode does not notice its file being moved, deleted or
   * replaced: it goes on writing to the file no longer there.
   */
  async ping(): Promise<boolean> {
    this.#get('SELECT 1 FROM sqlite_schema LIMIT 1');
    if (!this.#file) return true;
    const now = statSync(this.#file.path, { throwIfNoEntry: false });
    return now?.dev === this.#file.dev && now.ino === this.#file.ino;
  }

  async getUser(username: string): Promise<StoredUser | undefined> {
    const row = this.#get<{ username: string; password_hash: string; created_at: number }>(
      'SELECT username, password_hash, created_at FROM users WHERE username = ?',
      username,
    );
    return (
      row && { username: row.username, passwordHash: row.password_hash, createdAt: row.created_at }
    );
  }

  async putUser(username: string, passwordHash: string): Promise<void> {
    this.#run(
      'INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash',
      username,
      passwordHash,
      Date.now(),
    );
  }

  async deleteUser(username: string): Promise<boolean> {
    return this.#run('DELETE FROM users WHERE username = ?', username).changes > 0;
  }

  async listUsers(): Promise<string[]> {
    return this.#all<{ username: string }>('SELECT username FROM users ORDER BY username').map(
      (r) => r.username,
    );
  }

  async listKeys(): Promise<StoredKey[]> {
    const rows = this.#all<{
      kid: string;
      alg: string;
      private_jwk: string;
      created_at: number;
      retired_at: number | null;
    }>(
      'SELECT kid, alg, private_jwk, created_at, retired_at FROM signing_keys ORDER BY created_at DESC, kid',
    );
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      privateJwk: r.private_jwk,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
    }));
  }

  async addKey(key: StoredKey): Promise<void> {
    this.#run(
      'INSERT INTO signing_keys (kid, alg, private_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?)',
      key.kid,
      key.alg,
      key.privateJwk,
      key.createdAt,
      key.retiredAt,
    );
  }

  async retireKeys(alg: string, exceptKid: string, at: number): Promise<void> {
    this.#run(
      'UPDATE signing_keys SET retired_at = ? WHERE alg = ? AND kid != ? AND retired_at IS NULL',
      at,
      alg,
      exceptKid,
    );
  }

  async deleteKeysRetiredBefore(before: number): Promise<number> {
    return this.#run(
      'DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?',
      before,
    ).changes;
  }

  /** The most recent grant of `accountId` to `clientId`, to remember consent across sessions. */
  async latestGrantId(accountId: string, clientId: string): Promise<string | undefined> {
    const row = this.#get<{ id: string }>(
      "SELECT id FROM oidc_models WHERE model = 'Grant' AND json_extract(payload, '$.accountId') = ? AND json_extract(payload, '$.clientId') = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY expires_at DESC LIMIT 1",
      accountId,
      clientId,
      Date.now(),
    );
    return row?.id;
  }

  async grantsOf(accountId: string): Promise<Array<{ id: string; payload: ModelPayload }>> {
    // The grant-owner index (account, client, expiry) serves this too.
    const rows = this.#all<{ id: string; payload: string }>(
      "SELECT id, payload FROM oidc_models WHERE model = 'Grant' AND json_extract(payload, '$.accountId') = ? AND (expires_at IS NULL OR expires_at > ?)",
      accountId,
      Date.now(),
    );
    return rows.map((row) => ({ id: row.id, payload: JSON.parse(row.payload) as ModelPayload }));
  }

  /** Records that a client was used (authorization or token request) at `at` (ms). */
  async touchClient(clientId: string, at: number = Date.now()): Promise<void> {
    this.#run(
      'INSERT INTO client_usage (client_id, last_used_at) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET last_used_at = excluded.last_used_at',
      clientId,
      at,
    );
  }

  async clientLastUsed(): Promise<Map<string, number>> {
    const rows = this.#all<{ client_id: string; last_used_at: number }>(
      'SELECT client_id, last_used_at FROM client_usage',
    );
    return new Map(rows.map((row) => [row.client_id, row.last_used_at]));
  }

  /**
   * Deletes dynamically registered clients not used for `idleMs` (by last use, else by
   * registration time). Configured clients live outside the store and are never reaped.
   */
  async reapIdleClients(idleMs: number, now: number = Date.now()): Promise<string[]> {
    const reaped = idleClientIds(
      await this.models.list('Client'),
      (id) =>
        this.#get<{ last_used_at: number }>(
          'SELECT last_used_at FROM client_usage WHERE client_id = ?',
          id,
        )?.last_used_at,
      now - idleMs,
    );
    sqliteCall(() => {
      const destroy = this.#sql("DELETE FROM oidc_models WHERE model = 'Client' AND id = ?");
      const forget = this.#sql('DELETE FROM client_usage WHERE client_id = ?');
      this.db.transaction((ids: string[]) => {
        for (const id of ids) {
          destroy.run(id);
          forget.run(id);
        }
      })(reaped);
    });
    return reaped;
  }

  /** A server secret (e.g. cookie keys), created once with `create` and kept across restarts. */
  async secret(name: string, create: () => string): Promise<string> {
    const read = () =>
      this.#get<{ value: string }>('SELECT value FROM secrets WHERE name = ?', name)?.value;
    const existing = read();
    if (existing !== undefined) return existing;
    this.#run('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)', name, create());
    return read() as string;
  }

  async close(): Promise<void> {
    sqliteCall(() => this.db.close());
  }
}
