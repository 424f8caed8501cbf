import type { Redis } from 'ioredis';
import { redisCommand } from './redis-command.js';
import type { ModelPayload, ModelStore } from './store.js';

/**
 * oidc-provider's models in Redis, shared by every instance. Layout (all under `prefix`):
 * - `m:<model>:<id>`: hash with `p` (payload JSON) and `c` (consumed at, s); expires with the model.
 * - `idx:<model>`: set of ids, for listing and counting (expired ids are pruned by `cleanup`).
 * - `grant:<grantId>`: set of `<model>:<id>` of the grant's tokens and codes, for revocation.
 * - `uid:<model>:<uid>`, `uc:<model>:<userCode>`: id lookups, expiring with their entry.
 * - `latest-grant:<accountId>:<clientId>`: the newest grant id, to remember consent.
 * - `account-grants:<accountId>`: set of the account's grant ids (ids of grants gone are dropped
 *   when read), for its connected apps.
 * Writes that touch several keys run in MULTI or in one Lua script, so another instance never sees
 * half of them, and a refused one (OOM, READONLY) leaves nothing behind: it rejects with
 * StoreUnavailableError (redis-command.ts) and can simply be retried.
 */

const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HSETNX', KEYS[1], 'c', ARGV[1])
end
return 0`;

// KEYS[1] = the grant's set; ARGV[1] = prefix. Deletes every member entry and its index entry.
const REVOKE_GRANT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, member in ipairs(members) do
  local sep = string.find(member, ':', 1, true)
  local model = string.sub(member, 1, sep - 1)
  local id = string.sub(member, sep + 1)
  redis.call('DEL', ARGV[1] .. 'm:' .. member)
  redis.call('SREM', ARGV[1] .. 'idx:' .. model, id)
end
redis.call('DEL', KEYS[1])
return #members`;

export class RedisModelStore implements ModelStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #entry(model: string, id: string): string {
    return `${this.#prefix}m:${model}:${id}`;
  }

  #index(model: string): string {
    return `${this.#prefix}idx:${model}`;
  }

  async upsert(
    model: string,
    id: string,
    payload: ModelPayload,
    expiresInSec: number | undefined,
  ): Promise<void> {
    const key = this.#entry(model, id);
    const ttl = expiresInSec ? expiresInSec * 1000 : undefined;
    const multi = this.#redis.multi().hset(key, 'p', JSON.stringify(payload));
    if (ttl) multi.pexpire(key, ttl);
    else multi.persist(key);
    multi.sadd(this.#index(model), id);
    if (payload.grantId) {
      const grant = `${this.#prefix}grant:${payload.grantId}`;
      multi.sadd(grant, `${model}:${id}`);
      // The set lives as long as its longest-lived member: set a TTL if it has none, else extend.
      if (ttl) multi.pexpire(grant, ttl, 'NX').pexpire(grant, ttl, 'GT');
    }
    const lookup = (name: string) => {
      if (ttl) multi.set(name, id, 'PX', ttl);
      else multi.set(name, id);
    };
    if (payload.uid) lookup(`${this.#prefix}uid:${model}:${payload.uid}`);
    if (payload.userCode) lookup(`${this.#prefix}uc:${model}:${payload.userCode}`);
    if (
      model === 'Grant' &&
      typeof payload.accountId === 'string' &&
      typeof payload.clientId === 'string'
    ) {
      lookup(`${this.#prefix}latest-grant:${payload.accountId}:${payload.clientId}`);
    }
    if (model === 'Grant' && typeof payload.accountId === 'string') {
      const owned = `${this.#prefix}account-grants:${payload.accountId}`;
      multi.sadd(owned, id);
      if (ttl) multi.pexpire(owned, ttl, 'NX').pexpire(owned, ttl, 'GT');
      else multi.persist(owned);
    }
    await redisCommand(multi.exec());
  }

  /** The account's live grants; ids whose grant expired or was destroyed leave the set here. */
  async grantsOf(accountId: string): Promise<Array<{ id: string; payload: ModelPayload }>> {
    const owned = `${this.#prefix}account-grants:${accountId}`;
    const ids = await redisCommand(this.#redis.smembers(owned));
    const grants: Array<{ id: string; payload: ModelPayload }> = [];
    const gone: string[] = [];
    for (const id of ids) {
      const payload = await this.find('Grant', id);
      if (payload) grants.push({ id, payload });
      else gone.push(id);
    }
    if (gone.length > 0) await redisCommand(this.#redis.srem(owned, ...gone));
    return grants;
  }

  async find(model: string, id: string): Promise<ModelPayload | undefined> {
    const entry = await redisCommand(this.#redis.hgetall(this.#entry(model, id)));
    if (!entry.p) return undefined;
    const payload = JSON.parse(entry.p) as ModelPayload;
    return entry.c === undefined ? payload : { ...payload, consumed: Number(entry.c) };
  }

  async findByUid(model: string, uid: string): Promise<ModelPayload | undefined> {
    const id = await redisCommand(this.#redis.get(`${this.#prefix}uid:${model}:${uid}`));
    return id ? this.find(model, id) : undefined;
  }

  async findByUserCode(model: string, userCode: string): Promise<ModelPayload | undefined> {
    const id = await redisCommand(this.#redis.get(`${this.#prefix}uc:${model}:${userCode}`));
    return id ? this.find(model, id) : undefined;
  }

  async consume(model: string, id: string): Promise<void> {
    await redisCommand(
      this.#redis.eval(CONSUME, 1, this.#entry(model, id), Math.floor(Date.now() / 1000)),
    );
  }

  async destroy(model: string, id: string): Promise<void> {
    await redisCommand(
      this.#redis.multi().del(this.#entry(model, id)).srem(this.#index(model), id).exec(),
    );
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await redisCommand(
      this.#redis.eval(REVOKE_GRANT, 1, `${this.#prefix}grant:${grantId}`, this.#prefix),
    );
  }

  async list(model: string): Promise<Array<{ id: string; payload: ModelPayload }>> {
    const ids = (await redisCommand(this.#redis.smembers(this.#index(model)))).sort();
    const entries = await Promise.all(
      ids.map(async (id) => ({ id, payload: await this.find(model, id) })),
    );
    return entries.flatMap(({ id, payload }) => (payload ? [{ id, payload }] : []));
  }

  async count(model: string): Promise<number> {
    return redisCommand(this.#redis.scard(this.#index(model)));
  }

  /** Expired entries vanish by themselves (TTL); this prunes their ids from the index sets. */
  async cleanup(): Promise<number> {
    let removed = 0;
    const indexes = await this.#scan(`${this.#prefix}idx:*`);
    for (const index of indexes) {
      const model = index.slice(`${this.#prefix}idx:`.length);
      const ids = await redisCommand(this.#redis.smembers(index));
      if (ids.length === 0) continue;
      const pipeline = this.#redis.pipeline();
      for (const id of ids) pipeline.exists(this.#entry(model, id));
      const results = (await redisCommand(pipeline.exec())) ?? [];
      const gone = ids.filter((_, i) => results[i]?.[1] === 0);
      if (gone.length > 0) removed += await redisCommand(this.#redis.srem(index, ...gone));
    }
    return removed;
  }

  async #scan(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redisCommand(
        this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500),
      );
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }
}
