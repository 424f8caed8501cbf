import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryCounters } from './memory-counters.js';
import { SqliteModelStore } from './sqlite-models.js';
import { idleClientIds, type Store, type StoredKey, type StoredUser } from './store.js';

/**
 * All persistent state of the authorization server in one embedded SQLite database (WAL): every
 * oidc-provider model, users, signing keys and server secrets. `AUTH_STORE=memory` uses the same
 * code on an in-memory database, so tests exercise exactly what production runs.
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

  constructor(location: { kind: 'memory' } | { kind: 'sqlite'; path: string }) {
    if (location.kind === 'sqlite') mkdirSync(dirname(location.path), { recursive: true });
    this.db = new Database(location.kind === 'memory' ? ':memory:' : location.path);
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes (SIGKILL).
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.models = new SqliteModelStore(this.db);
  }

  /** True when the database answers; `/readyz` uses it. */
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

  async ping(): Promise<boolean> {
    return this.#sql('SELECT 1 AS ok').get() !== undefined;
  }

  async getUser(username: string): Promise<StoredUser | undefined> {
    const row = this.#sql(
      'SELECT username, password_hash, created_at FROM users WHERE username = ?',
    ).get(username) as { username: string; password_hash: string; created_at: number } | undefined;
    return (
      row && { username: row.username, passwordHash: row.password_hash, createdAt: row.created_at }
    );
  }

  async putUser(username: string, passwordHash: string): Promise<void> {
    this.#sql(
      'INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash',
    ).run(username, passwordHash, Date.now());
  }

  async deleteUser(username: string): Promise<boolean> {
    return this.#sql('DELETE FROM users WHERE username = ?').run(username).changes > 0;
  }

  async listUsers(): Promise<string[]> {
    return (
      this.#sql('SELECT username FROM users ORDER BY username').all() as Array<{
        username: string;
      }>
    ).map((r) => r.username);
  }

  async listKeys(): Promise<StoredKey[]> {
    const rows = this.#sql(
      'SELECT kid, alg, private_jwk, created_at, retired_at FROM signing_keys ORDER BY created_at DESC, kid',
    ).all() as Array<{
      kid: string;
      alg: string;
      private_jwk: string;
      created_at: number;
      retired_at: number | null;
    }>;
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      privateJwk: r.private_jwk,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
    }));
  }

  async addKey(key: StoredKey): Promise<void> {
    this.#sql(
      'INSERT INTO signing_keys (kid, alg, private_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?)',
    ).run(key.kid, key.alg, key.privateJwk, key.createdAt, key.retiredAt);
  }

  async retireKeys(alg: string, exceptKid: string, at: number): Promise<void> {
    this.#sql(
      'UPDATE signing_keys SET retired_at = ? WHERE alg = ? AND kid != ? AND retired_at IS NULL',
    ).run(at, alg, exceptKid);
  }

  async deleteKeysRetiredBefore(before: number): Promise<number> {
    return this.#sql(
      'DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?',
    ).run(before).changes;
  }

  /** The most recent grant of `accountId` to `clientId`, to remember consent across sessions. */
  async latestGrantId(accountId: string, clientId: string): Promise<string | undefined> {
    const row = this.#sql(
      "SELECT id FROM oidc_models WHERE model = 'Grant' AND json_extract(payload, '$.accountId') = ? AND json_extract(payload, '$.clientId') = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY expires_at DESC LIMIT 1",
    ).get(accountId, clientId, Date.now()) as { id: string } | undefined;
    return row?.id;
  }

  /** Records that a client was used (authorization or token request) at `at` (ms). */
  async touchClient(clientId: string, at: number = Date.now()): Promise<void> {
    this.#sql(
      'INSERT INTO client_usage (client_id, last_used_at) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET last_used_at = excluded.last_used_at',
    ).run(clientId, at);
  }

  /**
   * Deletes dynamically registered clients not used for `idleMs` (by last use, else by
   * registration time). Configured clients live outside the store and are never reaped.
   */
  async reapIdleClients(idleMs: number, now: number = Date.now()): Promise<string[]> {
    const usage = this.#sql('SELECT last_used_at FROM client_usage WHERE client_id = ?');
    const reaped = idleClientIds(
      await this.models.list('Client'),
      (id) => (usage.get(id) as { last_used_at: number } | undefined)?.last_used_at,
      now - idleMs,
    );
    const destroy = this.#sql("DELETE FROM oidc_models WHERE model = 'Client' AND id = ?");
    const forget = this.#sql('DELETE FROM client_usage WHERE client_id = ?');
    this.db.transaction((ids: string[]) => {
      for (const id of ids) {
        destroy.run(id);
        forget.run(id);
      }
    })(reaped);
    return reaped;
  }

  /** A server secret (e.g. cookie keys), created once with `create` and kept across restarts. */
  async secret(name: string, create: () => string): Promise<string> {
    const row = this.#sql('SELECT value FROM secrets WHERE name = ?').get(name) as
      | { value: string }
      | undefined;
    if (row) return row.value;
    const value = create();
    this.#sql('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)').run(name, value);
    return (this.#sql('SELECT value FROM secrets WHERE name = ?').get(name) as { value: string })
      .value;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
