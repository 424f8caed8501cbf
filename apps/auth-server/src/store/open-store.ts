import type { StoreLocation } from '../config.js';
import { RedisStore } from './redis-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** The store `AUTH_STORE` names: SQLite (a file, or in memory) or Redis. */
export async function openStore(location: StoreLocation): Promise<Store> {
  if (location.kind === 'redis') return RedisStore.connect(location.url);
  return new SqliteStore(location);
}
