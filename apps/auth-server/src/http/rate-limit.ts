/**
 * A fixed-window counter per key (client IP): `limit` hits per `windowMs`. In memory; a
 * multi-instance deployment will keep these counters in Redis.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(limit: number, windowMs: number, now: () => number = Date.now) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts a hit; returns 0 when allowed, else the milliseconds until the window resets. */
  hit(key: string): number {
    const now = this.#now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= this.#windowMs) {
      if (this.#windows.size > 100_000) this.#windows.clear();
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return window.count > this.#limit ? window.start + this.#windowMs - now : 0;
  }
}
