import type Database from 'better-sqlite3';
import { sqliteCall } from './sqlite-call.js';
import type { ModelPayload, ModelStore } from './store.js';

/**
 * oidc-provider's models in one SQLite table: every model (Session, Grant, AuthorizationCode,
 * RefreshToken, Client, Interaction, ...) is a row keyed by (model, id) with its payload as JSON,
 * indexed by grant id, uid and user code, expiring at `expires_at`. better-sqlite3 is synchronous;
 * the async contract is shared with the Redis store. Every statement runs through sqliteCall
 * (sqlite-call.ts), so the database failing rejects with StoreUnavailableError.
 */

interface Row {
  payload: string;
  expires_at: number | null;
  consumed_at: number | null;
}

export class SqliteModelStore implements ModelStore {
  readonly #statements;

  constructor(db: Database.Database) {
    this.#statements = sqliteCall(() => ({
      upsert: db.prepare(
        `INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
         VALUES (@model, @id, @payload, @grantId, @userCode, @uid, @expiresAt, NULL)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
           user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
      ),
      find: db.prepare(
        'SELECT payload, expires_at, consumed_at FROM oidc_models WHERE model = ? AND id = ?',
      ),
      findByUid: db.prepare(
        'SELECT payload, expires_at, consumed_at FROM oidc_models WHERE model = ? AND uid = ?',
      ),
      findByUserCode: db.prepare(
        'SELECT payload, expires_at, consumed_at FROM oidc_models WHERE model = ? AND user_code = ?',
      ),
      consume: db.prepare(
        'UPDATE oidc_models SET consumed_at = ? WHERE model = ? AND id = ? AND consumed_at IS NULL',
      ),
      destroy: db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?'),
      revokeByGrantId: db.prepare('DELETE FROM oidc_models WHERE grant_id = ?'),
      cleanup: db.prepare(
        'DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at < ?',
      ),
      listByModel: db.prepare(
        'SELECT id, payload, expires_at, consumed_at FROM oidc_models WHERE model = ? ORDER BY id',
      ),
      countByModel: db.prepare('SELECT COUNT(*) AS n FROM oidc_models WHERE model = ?'),
    }));
  }

  async upsert(
    model: string,
    id: string,
    payload: ModelPayload,
    expiresInSec: number | undefined,
  ): Promise<void> {
    const row = {
      model,
      id,
      payload: JSON.stringify(payload),
      grantId: payload.grantId ?? null,
      userCode: payload.userCode ?? null,
      uid: payload.uid ?? null,
      expiresAt: expiresInSec ? Date.now() + expiresInSec * 1000 : null,
    };
    sqliteCall(() => this.#statements.upsert.run(row));
  }

  async find(model: string, id: string): Promise<ModelPayload | undefined> {
    return this.#read(sqliteCall(() => this.#statements.find.get(model, id) as Row | undefined));
  }

  async findByUid(model: string, uid: string): Promise<ModelPayload | undefined> {
    return this.#read(
      sqliteCall(() => this.#statements.findByUid.get(model, uid) as Row | undefined),
    );
  }

  async findByUserCode(model: string, userCode: string): Promise<ModelPayload | undefined> {
    return this.#read(
      sqliteCall(() => this.#statements.findByUserCode.get(model, userCode) as Row | undefined),
    );
  }

  async consume(model: string, id: string): Promise<void> {
    sqliteCall(() => this.#statements.consume.run(Math.floor(Date.now() / 1000), model, id));
  }

  async destroy(model: string, id: string): Promise<void> {
    sqliteCall(() => this.#statements.destroy.run(model, id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    sqliteCall(() => this.#statements.revokeByGrantId.run(grantId));
  }

  /** Deletes expired rows; returns how many. */
  async cleanup(): Promise<number> {
    return sqliteCall(() => this.#statements.cleanup.run(Date.now()).changes);
  }

  async list(model: string): Promise<Array<{ id: string; payload: ModelPayload }>> {
    const rows = sqliteCall(
      () => this.#statements.listByModel.all(model) as Array<Row & { id: string }>,
    );
    return rows.flatMap((row) => {
      const payload = this.#read(row);
      return payload ? [{ id: row.id, payload }] : [];
    });
  }

  async count(model: string): Promise<number> {
    return sqliteCall(() => (this.#statements.countByModel.get(model) as { n: number }).n);
  }

  #read(row: Row | undefined): ModelPayload | undefined {
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at < Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as ModelPayload;
    return row.consumed_at === null ? payload : { ...payload, consumed: row.consumed_at };
  }
}
