import { randomUUID } from 'node:crypto';
import { RedisAuditLog } from '@gatehouse/audit';
import { ConfigError } from '@gatehouse/server-kit';
import { Redis } from 'ioredis';
import { redisCommand } from './redis-command.js';
import { RedisCounters } from './redis-counters.js';
import { RedisModelStore } from './redis-models.js';
import {
  idleClientIds,
  type ModelPayload,
  type Store,
  type StoredKey,
  type StoredUser,
} from './store.js';

/**
 * All state in one Redis database, so several authorization-server instances share clients,
 * grants, tokens, users, signing keys and secrets. Commands fail fast while Redis is unreachable
 * (no offline queue: a request gets an error instead of hanging) and the client reconnects by
 * itself. A failed command rejects with StoreUnavailableError (redis-command.ts). Keys live under
 * `gatehouse:`.
 */

const PREFIX = 'gatehouse:';
const USERS = `${PREFIX}users`;
const KEYS = `${PREFIX}signing-keys`;
const SECRETS = `${PREFIX}secrets`;
const CLIENT_USAGE = `${PREFIX}client-usage`;

// Deletes the lock only if this holder still owns it (it may have expired and been taken).
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly models: RedisModelStore;
  readonly counters: RedisCounters;
  readonly audit: RedisAuditLog;
  readonly #redis: Redis;

  private constructor(redis: Redis, auditRetentionMs: number) {
    this.#redis = redis;
    this.models = new RedisModelStore(redis, PREFIX);
    this.counters = new RedisCounters(redis, PREFIX);
    this.audit = new RedisAuditLog(redis, {
      prefix: PREFIX,
      retentionMs: auditRetentionMs,
      command: redisCommand,
    });
  }

  /** Connects to `url` (redis:// or rediss://); fails with the reason when Redis is unreachable. */
  static async connect(
    url: string,
    options: { readonly auditRetentionMs?: number } = {},
  ): Promise<RedisStore> {
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      // Keep trying in the background after a loss, at most every 2 s.
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    // Connection errors surface through failed commands and /readyz; without a listener ioredis
    // would print every reconnection attempt. At startup the first one is the reason.
    let startupError: Error | undefined;
    redis.on('error', (error: Error) => {
      startupError ??= error;
    });
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      // ioredis rejects with "Connection is closed."; the socket's own error says why.
      const reason = (startupError ?? (error as Error)).message;
      const { hostname, port } = new URL(url);
      // A configuration problem: stops startup with its message, no stack trace (server-kit).
      throw new ConfigError(
        `AUTH_STORE: cannot connect to Redis at ${hostname}:${port || 6379} (${reason}); start Redis, fix the URL, or use sqlite:<path> for a single instance`,
      );
    }
    // Grant activity expires this long after its latest time (AUTH_AUDIT_RETENTION).
    return new RedisStore(redis, options.auditRetentionMs ?? 90 * 86_400_000);
  }

  available(): boolean {
    return this.#redis.status === 'ready';
  }

  async withLock<T>(name: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
    const key = `${PREFIX}lock:${name}`;
    const token = randomUUID();
    const deadline = Date.now() + timeoutMs;
    // The lock expires by itself should its holder die; `fn` must finish well within timeoutMs.
    while ((await redisCommand(this.#redis.set(key, token, 'PX', timeoutMs, 'NX'))) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the ${name} lock in Redis`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      return await fn();
    } finally {
      await redisCommand(this.#redis.eval(RELEASE_LOCK, 1, key, token));
    }
  }

  async ping(): Promise<boolean> {
    return (await redisCommand(this.#redis.ping())) === 'PONG';
  }

  async getUser(username: string): Promise<StoredUser | undefined> {
    const raw = await redisCommand(this.#redis.hget(USERS, username));
    if (!raw) return undefined;
    const { passwordHash, createdAt } = JSON.parse(raw) as Omit<StoredUser, 'username'>;
    return { username, passwordHash, createdAt };
  }

  async putUser(username: string, passwordHash: string): Promise<void> {
    const createdAt = (await this.getUser(username))?.createdAt ?? Date.now();
    await redisCommand(
      this.#redis.hset(USERS, username, JSON.stringify({ passwordHash, createdAt })),
    );
  }

  async deleteUser(username: string): Promise<boolean> {
    return (await redisCommand(this.#redis.hdel(USERS, username))) > 0;
  }

  async listUsers(): Promise<string[]> {
    return (await redisCommand(this.#redis.hkeys(USERS))).sort();
  }

  async listKeys(): Promise<StoredKey[]> {
    const all = Object.values(await redisCommand(this.#redis.hgetall(KEYS))).map(
      (raw) => JSON.parse(raw) as StoredKey,
    );
    return all.sort((a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid));
  }

  async addKey(key: StoredKey): Promise<void> {
    await redisCommand(this.#redis.hset(KEYS, key.kid, JSON.stringify(key)));
  }

  async retireKeys(alg: string, exceptKid: string, at: number): Promise<void> {
    const retiring = (await this.listKeys()).filter(
      (k) => k.alg === alg && k.kid !== exceptKid && k.retiredAt === null,
    );
    if (retiring.length === 0) return;
    await redisCommand(
      this.#redis.hset(
        KEYS,
        Object.fromEntries(retiring.map((k) => [k.kid, JSON.stringify({ ...k, retiredAt: at })])),
      ),
    );
  }

  async deleteKeysRetiredBefore(before: number): Promise<number> {
    const old = (await this.listKeys()).filter((k) => k.retiredAt !== null && k.retiredAt < before);
    return old.length === 0 ? 0 : redisCommand(this.#redis.hdel(KEYS, ...old.map((k) => k.kid)));
  }

  async latestGrantId(accountId: string, clientId: string): Promise<string | undefined> {
    const id = await redisCommand(
      this.#redis.get(`${PREFIX}latest-grant:${accountId}:${clientId}`),
    );
    return id && (await this.models.find('Grant', id)) ? id : undefined;
  }

  grantsOf(accountId: string): Promise<Array<{ id: string; payload: ModelPayload }>> {
    return this.models.grantsOf(accountId);
  }

  async touchClient(clientId: string, at: number = Date.now()): Promise<void> {
    await redisCommand(this.#redis.hset(CLIENT_USAGE, clientId, String(at)));
  }

  async clientLastUsed(): Promise<Map<string, number>> {
    const usage = await redisCommand(this.#redis.hgetall(CLIENT_USAGE));
    return new Map(Object.entries(usage).map(([id, at]) => [id, Number(at)]));
  }

  async reapIdleClients(idleMs: number, now: number = Date.now()): Promise<string[]> {
    const usage = await redisCommand(this.#redis.hgetall(CLIENT_USAGE));
    const reaped = idleClientIds(
      await this.models.list('Client'),
      (id) => (usage[id] === undefined ? undefined : Number(usage[id])),
      now - idleMs,
    );
    for (const id of reaped) {
      await this.models.destroy('Client', id);
      await redisCommand(this.#redis.hdel(CLIENT_USAGE, id));
    }
    return reaped;
  }

  async secret(name: string, create: () => string): Promise<string> {
    const existing = await redisCommand(this.#redis.hget(SECRETS, name));
    if (existing !== null) return existing;
    // HSETNX: when two instances start at once, both end up with the first writer's value.
    await redisCommand(this.#redis.hsetnx(SECRETS, name, create()));
    return (await redisCommand(this.#redis.hget(SECRETS, name))) as string;
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
