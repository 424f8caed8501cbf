import type Database from 'better-sqlite3';

/**
 * oidc-provider's adapter contract over one SQLite table: every model (Session, Grant,
 * AuthorizationCode, RefreshToken, Client, Interaction, ...) is a row keyed by (model, id) with its
 * payload as JSON, indexed by grant id, uid and user code, expiring at `expires_at`.
 */

export type ModelPayload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
};

interface Row {
  payload: string;
  expires_at: number | null;
  consumed_at: number | null;
}

export class OidcModelStore {
  readonly #db: Database.Database;
  readonly #statements;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = {
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
      consume: db.prepare('UPDATE oidc_models SET consumed_at = ? WHERE model = ? AND id = ?'),
      destroy: db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?'),
      revokeByGrantId: db.prepare('DELETE FROM oidc_models WHERE grant_id = ?'),
      cleanup: db.prepare(
        'DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at < ?',
      ),
      listByModel: db.prepare(
        'SELECT id, payload, expires_at, consumed_at FROM oidc_models WHERE model = ? ORDER BY id',
      ),
      countByModel: db.prepare('SELECT COUNT(*) AS n FROM oidc_models WHERE model = ?'),
    };
  }

  upsert(model: string, id: string, payload: ModelPayload, expiresInSec: number | undefined): void {
    this.#statements.upsert.run({
      model,
      id,
      payload: JSON.stringify(payload),
      grantId: payload.grantId ?? null,
      userCode: payload.userCode ?? null,
      uid: payload.uid ?? null,
      expiresAt: expiresInSec ? Date.now() + expiresInSec * 1000 : null,
    });
  }

  find(model: string, id: string): ModelPayload | undefined {
    return this.#read(this.#statements.find.get(model, id) as Row | undefined);
  }

  findByUid(model: string, uid: string): ModelPayload | undefined {
    return this.#read(this.#statements.findByUid.get(model, uid) as Row | undefined);
  }

  findByUserCode(model: string, userCode: string): ModelPayload | undefined {
    return this.#read(this.#statements.findByUserCode.get(model, userCode) as Row | undefined);
  }

  consume(model: string, id: string): void {
    this.#statements.consume.run(Math.floor(Date.now() / 1000), model, id);
  }

  destroy(model: string, id: string): void {
    this.#statements.destroy.run(model, id);
  }

  revokeByGrantId(grantId: string): void {
    this.#statements.revokeByGrantId.run(grantId);
  }

  /** Deletes expired rows; returns how many. */
  cleanup(): number {
    return this.#statements.cleanup.run(Date.now()).changes;
  }

  list(model: string): Array<{ id: string; payload: ModelPayload }> {
    const rows = this.#statements.listByModel.all(model) as Array<Row & { id: string }>;
    return rows.flatMap((row) => {
      const payload = this.#read(row);
      return payload ? [{ id: row.id, payload }] : [];
    });
  }

  count(model: string): number {
    return (this.#statements.countByModel.get(model) as { n: number }).n;
  }

  #read(row: Row | undefined): ModelPayload | undefined {
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at < Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as ModelPayload;
    return row.consumed_at === null ? payload : { ...payload, consumed: row.consumed_at };
  }

  /** The class oidc-provider instantiates per model name. */
  adapterClass(): new (name: string) => OidcAdapter {
    const store = this;
    return class SqliteAdapter implements OidcAdapter {
      readonly #model: string;
      constructor(name: string) {
        this.#model = name;
      }
      async upsert(id: string, payload: ModelPayload, expiresIn: number) {
        store.upsert(this.#model, id, payload, expiresIn);
      }
      async find(id: string) {
        return store.find(this.#model, id);
      }
      async findByUid(uid: string) {
        return store.findByUid(this.#model, uid);
      }
      async findByUserCode(userCode: string) {
        return store.findByUserCode(this.#model, userCode);
      }
      async consume(id: string) {
        store.consume(this.#model, id);
      }
      async destroy(id: string) {
        store.destroy(this.#model, id);
      }
      async revokeByGrantId(grantId: string) {
        store.revokeByGrantId(grantId);
      }
    };
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }
}

export interface OidcAdapter {
  upsert(id: string, payload: ModelPayload, expiresIn: number): Promise<void>;
  find(id: string): Promise<ModelPayload | undefined>;
  findByUid(uid: string): Promise<ModelPayload | undefined>;
  findByUserCode(userCode: string): Promise<ModelPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}
