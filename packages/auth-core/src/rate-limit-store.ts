import { z } from 'zod';
import { parseOptions } from './internal/options.js';

/**
 * One rule's counter for one identity, as the {@link RateLimiter} hands it to a store. Times are
 * integer microseconds, so the arithmetic is exact in JavaScript and in Redis's Lua alike.
 */
export interface RateLimitCell {
  /**
   * `<rule name>:<base64url SHA-256 of the identity>`, at most 108 characters: never a subject or
   * client id.
   */
  readonly key: string;
  /** GCRA emission interval `T` = window / limit, in µs (at least 1). */
  readonly intervalUs: number;
  /** GCRA burst tolerance `τ` = (limit − 1) · T, in µs. */
  readonly toleranceUs: number;
}

export interface RateLimitStoreAnswer {
  /** Whether the request conformed to every cell, and so was recorded in every one. */
  readonly recorded: boolean;
  /** Each cell's theoretical arrival time (TAT, µs since the epoch) afterwards; 0 for none. */
  readonly tats: readonly number[];
}

/**
 * Where a {@link RateLimiter} keeps its counters: one number per cell, the GCRA theoretical arrival
 * time (TAT). `consume` must be atomic across every instance sharing the store: when, for each cell,
 * `max(tat, now) − now ≤ toleranceUs`, every cell's TAT becomes `max(tat, now) + intervalUs`;
 * otherwise nothing changes. A TAT at or before `now` means a full quota, the same as no entry, so a
 * store may drop it then. Implementations: {@link createMemoryRateLimitStore} (the default) and
 * `createRedisRateLimitStore`.
 */
export interface RateLimitStore {
  /** Synchronous answers (the memory store's) spare the request a promise. */
  consume(
    cells: readonly RateLimitCell[],
    nowUs: number,
  ): RateLimitStoreAnswer | Promise<RateLimitStoreAnswer>;
  /** Each key's TAT (0 for none), changing nothing. */
  peek(keys: readonly string[], nowUs: number): readonly number[] | Promise<readonly number[]>;
}

export interface MemoryRateLimitStoreOptions {
  /**
   * Most counters kept (one per rule and identity); default {@link DEFAULT_RATE_LIMIT_MAX_KEYS}.
   * Past it the least recently counted goes first, even when its quota is not yet restored.
   */
  readonly maxKeys?: number | undefined;
}

/** A {@link RateLimitStore} in this process, answering synchronously; `size`: counters held now. */
export interface MemoryRateLimitStore extends RateLimitStore {
  consume(cells: readonly RateLimitCell[], nowUs: number): RateLimitStoreAnswer;
  peek(keys: readonly string[], nowUs: number): readonly number[];
  readonly size: number;
}

export const DEFAULT_RATE_LIMIT_MAX_KEYS = 10_000;

/** Expired counters removed per request, beyond the one it may add: cleanup is amortised O(1). */
const SWEEP_PER_CALL = 8;

const optionsSchema = z.object({
  maxKeys: z.number().int().min(1).max(10_000_000).optional(),
});

/**
 * The default store: counters in a `Map` of this process, so instances behind a load balancer each
 * count on their own (use `createRedisRateLimitStore` to share). Bounded: a counter whose quota is
 * fully restored is the same as none and is swept as requests come; beyond `maxKeys` (default
 * 10 000; measured under 5 MB with the limiter's key cache) the least recently counted is evicted,
 * so many distinct subjects can never grow it without bound. An evicted identity that comes back
 * starts with a full quota.
 */
export function createMemoryRateLimitStore(
  options: MemoryRateLimitStoreOptions = {},
): MemoryRateLimitStore {
  parseOptions(optionsSchema, options, 'Memory rate-limit store');
  const maxKeys = options.maxKeys ?? DEFAULT_RATE_LIMIT_MAX_KEYS;
  // Insertion order is recency order: a counter is deleted and set again each time it counts.
  const tats = new Map<string, number>();
  const current = (key: string, nowUs: number): number => {
    const tat = tats.get(key);
    return tat !== undefined && tat > nowUs ? tat : 0;
  };

  const evict = (nowUs: number): void => {
    let swept = 0;
    for (const key of tats.keys()) {
      if (tats.size > maxKeys) tats.delete(key);
      else if (swept < SWEEP_PER_CALL && (tats.get(key) ?? 0) <= nowUs) {
        tats.delete(key);
        swept += 1;
      } else break;
    }
  };

  return {
    get size() {
      return tats.size;
    },
    consume(cells, nowUs) {
      const before: number[] = [];
      let conforms = true;
      for (const cell of cells) {
        const tat = current(cell.key, nowUs);
        before.push(tat);
        if (Math.max(tat, nowUs) - nowUs > cell.toleranceUs) conforms = false;
      }
      if (!conforms) return { recorded: false, tats: before };
      const after: number[] = [];
      for (const [i, cell] of cells.entries()) {
        const tat = Math.max(before[i] ?? 0, nowUs) + cell.intervalUs;
        after.push(tat);
        tats.delete(cell.key);
        tats.set(cell.key, tat);
      }
      evict(nowUs);
      return { recorded: true, tats: after };
    },
    peek(keys, nowUs) {
      return keys.map((key) => current(key, nowUs));
    },
  };
}
