import type { Counters } from '../store/store.js';

/**
 * Throttles failed sign-ins per username (`maxPerUser`, default 5) and per client IP (`maxPerIp`,
 * default 20, higher because many users may share an address) within `windowMs`; further attempts
 * are refused until the oldest counted failure leaves the window. A successful sign-in resets the
 * username's count. Failures live in the store's counters, shared by every instance on one Redis.
 */
export class LoginThrottle {
  readonly #counters: Counters;
  readonly #maxPerUser: number;
  readonly #maxPerIp: number;
  readonly #windowMs: number;

  constructor(
    counters: Counters,
    options: { maxPerUser?: number; maxPerIp?: number; windowMs?: number } = {},
  ) {
    this.#counters = counters;
    this.#maxPerUser = options.maxPerUser ?? 5;
    this.#maxPerIp = options.maxPerIp ?? 20;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
  }

  /** Milliseconds until another attempt is allowed for this user or IP; 0 when allowed now. */
  async retryAfterMs(username: string, ip: string): Promise<number> {
    const now = Date.now();
    const [user, address] = await Promise.all([
      this.#wait(`login:user:${username.toLowerCase()}`, this.#maxPerUser, now),
      this.#wait(`login:ip:${ip}`, this.#maxPerIp, now),
    ]);
    return Math.max(user, address);
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [`login:user:${username.toLowerCase()}`, `login:ip:${ip}`].map((key) =>
        this.#counters.addEvent(key, now, this.#windowMs),
      ),
    );
  }

  async recordSuccess(username: string): Promise<void> {
    await this.#counters.clearEvents(`login:user:${username.toLowerCase()}`);
  }

  async #wait(key: string, max: number, now: number): Promise<number> {
    const recent = await this.#counters.recentEvents(key, this.#windowMs, now);
    if (recent.length < max) return 0;
    return (recent[recent.length - max] ?? 0) + this.#windowMs - now;
  }
}
