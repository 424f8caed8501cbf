import type { Counters } from '../store/store.js';

/**
 * A fixed-window limit per key (client IP): `limit` hits per `windowMs`, counted in the store's
 * counters, so every instance on one Redis shares the same budget.
 */
export class RateLimiter {
  readonly #counters: Counters;
  readonly #name: string;
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(counters: Counters, name: string, limit: number, windowMs: number) {
    this.#counters = counters;
    this.#name = name;
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Counts a hit; resolves to 0 when allowed, else the milliseconds until the window resets. */
  async hit(key: string): Promise<number> {
    const { count, resetInMs } = await this.#counters.countHit(
      `${this.#name}:${key}`,
      this.#windowMs,
    );
    return count > this.#limit ? Math.max(resetInMs, 1) : 0;
  }
}
