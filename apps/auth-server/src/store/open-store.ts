import type { StoreLocation } from '../config.js';
import type { Store } from './store.js';

/**
 * The store `AUTH_STORE` names: SQLite (a file, or in memory) or Redis. Each backend is loaded
 * only when chosen: its client library is most of a backend's memory (ioredis alone adds ~20 MB
 * of resident memory to a process that never talks to Redis).
 */
export async function openStore(
  location: StoreLocation,
  options: { readonly auditRetentionMs?: number } = {},
): Promise<Store> {
  if (location.kind === 'redis') {
    const { RedisStore } = await import('./redis-store.js');
    return RedisStore.connect(location.url, options);
  }
  const { SqliteStore } = await import('./sqlite-store.js');
  return new SqliteStore(location);
}
