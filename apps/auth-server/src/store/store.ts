import type { AuditLog } from '@gatehouse/audit';
/**
 * What the authorization server keeps: every oidc-provider model, users, signing keys, server
 * secrets and client usage. Two implementations share this contract and one test suite
 * (test/store-contract.test.ts): SQLite (embedded, the default; `memory` is SQLite in memory) and
 * Redis (several instances on one shared store). An operation the store cannot carry out right now
 * (Redis refused a command or lost the connection; SQLite locked, disk full, I/O error) rejects with
 * StoreUnavailableError (store-unavailable.ts), which requests answer with a retryable 503.
 */

export type ModelPayload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
};

/** oidc-provider's adapter contract, per model name. */
export interface OidcAdapter {
  upsert(id: string, payload: ModelPayload, expiresIn: number): Promise<void>;
  find(id: string): Promise<ModelPayload | undefined>;
  findByUid(uid: string): Promise<ModelPayload | undefined>;
  findByUserCode(userCode: string): Promise<ModelPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/** Every oidc-provider model (Session, Grant, AuthorizationCode, RefreshToken, Client, ...). */
export interface ModelStore {
  upsert(
    model: string,
    id: string,
    payload: ModelPayload,
    expiresInSec: number | undefined,
  ): Promise<void>;
  find(model: string, id: string): Promise<ModelPayload | undefined>;
  findByUid(model: string, uid: string): Promise<ModelPayload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<ModelPayload | undefined>;
  /** Marks the entry consumed (once: a second consume keeps the first time). */
  consume(model: string, id: string): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  /** Deletes every entry of any model that belongs to the grant. */
  revokeByGrantId(grantId: string): Promise<void>;
  list(model: string): Promise<Array<{ id: string; payload: ModelPayload }>>;
  count(model: string): Promise<number>;
  /** Removes what expired; returns how many entries went. */
  cleanup(): Promise<number>;
}

export interface StoredUser {
  readonly username: string;
  readonly passwordHash: string;
  readonly createdAt: number;
}

export interface StoredKey {
  readonly kid: string;
  readonly alg: string;
  /** Private JWK as JSON (never logged). */
  readonly privateJwk: string;
  readonly createdAt: number;
  /** Set when the key stops signing; its public part stays published until tokens expire. */
  readonly retiredAt: number | null;
}

/**
 * Counters for rate limits and sign-in throttling. Shared by every instance on Redis; in process
 * memory with SQLite (one SQLite file serves one process).
 */
export interface Counters {
  /** Counts a hit in a fixed window of `windowMs` starting at the key's first hit. */
  countHit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /** Records an event at `at` (ms) in a sliding window of `windowMs`. */
  addEvent(key: string, at: number, windowMs: number): Promise<void>;
  /** Event times within `windowMs` before `now`, oldest first. */
  recentEvents(key: string, windowMs: number, now: number): Promise<number[]>;
  clearEvents(key: string): Promise<void>;
  /** A short-lived value (e.g. a cached token response), gone after `ttlMs`. */
  putValue(key: string, value: string, ttlMs: number): Promise<void>;
  getValue(key: string): Promise<string | undefined>;
  deleteValue(key: string): Promise<void>;
}

export interface Store {
  readonly kind: 'sqlite' | 'redis';
  readonly models: ModelStore;
  readonly counters: Counters;
  /** The audit trail (audit/), shared by every instance on this store. */
  readonly audit: AuditLog;
  /** True when the store answers; `/readyz` uses it. */
  ping(): Promise<boolean>;
  /** False while the store is known to be unreachable (no round trip): requests then get 503. */
  available(): boolean;
  /**
   * Runs `fn` while holding a lock shared by every instance on this store (e.g. creating the first
   * signing keys when several instances start at once); waits up to `timeoutMs` for it.
   */
  withLock<T>(name: string, fn: () => Promise<T>, timeoutMs?: number): Promise<T>;
  getUser(username: string): Promise<StoredUser | undefined>;
  putUser(username: string, passwordHash: string): Promise<void>;
  deleteUser(username: string): Promise<boolean>;
  listUsers(): Promise<string[]>;
  listKeys(): Promise<StoredKey[]>;
  addKey(key: StoredKey): Promise<void>;
  retireKeys(alg: string, exceptKid: string, at: number): Promise<void>;
  deleteKeysRetiredBefore(before: number): Promise<number>;
  /** The most recent live grant of `accountId` to `clientId`, to remember consent across sessions. */
  latestGrantId(accountId: string, clientId: string): Promise<string | undefined>;
  /** Every live grant of `accountId` (its connected apps), in no particular order. */
  grantsOf(accountId: string): Promise<Array<{ id: string; payload: ModelPayload }>>;
  /** Records that a client was used (authorization or token request) at `at` (ms). */
  touchClient(clientId: string, at?: number): Promise<void>;
  /** When each client was last used (ms), for those used since they registered. */
  clientLastUsed(): Promise<Map<string, number>>;
  /**
   * Deletes dynamically registered clients not used for `idleMs` (by last use, else by
   * registration time). Configured clients live outside the store and are never reaped.
   */
  reapIdleClients(idleMs: number, now?: number): Promise<string[]>;
  /** A server secret (e.g. cookie keys), created once with `create` and kept; the first writer wins. */
  secret(name: string, create: () => string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The class oidc-provider instantiates per model name, over any {@link ModelStore}. `found`, when
 * given, sees every payload read by id before oidc-provider does (a policy such as the refresh
 * token reuse interval, provider/refresh-reuse.ts). `neverStored` are ids the server itself hands
 * the provider to look up knowing they are absent (the JWT introspection placeholder): answered
 * without a store round trip.
 */
export function adapterClass(
  models: ModelStore,
  options: {
    readonly found?: (model: string, payload: ModelPayload) => ModelPayload;
    readonly neverStored?: ReadonlySet<string>;
  } = {},
): new (
  name: string,
) => OidcAdapter {
  const { found, neverStored } = options;
  return class StoreAdapter implements OidcAdapter {
    readonly #model: string;
    constructor(name: string) {
      this.#model = name;
    }
    upsert(id: string, payload: ModelPayload, expiresIn: number) {
      return models.upsert(this.#model, id, payload, expiresIn);
    }
    async find(id: string) {
      if (neverStored?.has(id)) return undefined;
      const payload = await models.find(this.#model, id);
      return payload && found ? found(this.#model, payload) : payload;
    }
    findByUid(uid: string) {
      return models.findByUid(this.#model, uid);
    }
    findByUserCode(userCode: string) {
      return models.findByUserCode(this.#model, userCode);
    }
    consume(id: string) {
      return models.consume(this.#model, id);
    }
    destroy(id: string) {
      return models.destroy(this.#model, id);
    }
    revokeByGrantId(grantId: string) {
      return models.revokeByGrantId(grantId);
    }
  };
}

/** Client ids whose last use (else registration) is older than `cutoff` (ms). */
/**
 * Revokes a grant with everything issued under it: its tokens and codes (by grant id), then the
 * grant itself. Its refresh tokens stop at once, and its JWTs answer inactive at introspection.
 */
export async function revokeGrant(models: ModelStore, grantId: string): Promise<void> {
  await models.revokeByGrantId(grantId);
  await models.destroy('Grant', grantId);
}

export function idleClientIds(
  clients: Array<{ id: string; payload: ModelPayload }>,
  lastUsed: (id: string) => number | undefined,
  cutoff: number,
): string[] {
  return clients
    .filter(({ id, payload }) => {
      const issuedAt =
        typeof payload.client_id_issued_at === 'number' ? payload.client_id_issued_at * 1000 : 0;
      return (lastUsed(id) ?? issuedAt) < cutoff;
    })
    .map(({ id }) => id);
}
