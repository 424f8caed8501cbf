/**
 * Throttles failed sign-ins per username (`maxPerUser`, default 5) and per client IP (`maxPerIp`,
 * default 20, higher because many users may share an address) within `windowMs`; further attempts
 * are refused until the oldest counted failure leaves the window. A successful sign-in resets the
 * username's count. In memory; a multi-instance deployment will keep these counters in Redis.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();
  readonly #maxPerUser: number;
  readonly #maxPerIp: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(
    options: { maxPerUser?: number; maxPerIp?: number; windowMs?: number; now?: () => number } = {},
  ) {
    this.#maxPerUser = options.maxPerUser ?? 5;
    this.#maxPerIp = options.maxPerIp ?? 20;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Milliseconds until another attempt is allowed for this user or IP; 0 when allowed now. */
  retryAfterMs(username: string, ip: string): number {
    return Math.max(
      this.#wait(`user:${username.toLowerCase()}`, this.#maxPerUser),
      this.#wait(`ip:${ip}`, this.#maxPerIp),
    );
  }

  recordFailure(username: string, ip: string): void {
    for (const key of [`user:${username.toLowerCase()}`, `ip:${ip}`]) {
      const recent = this.#recent(key);
      recent.push(this.#now());
      this.#failures.set(key, recent);
    }
    if (this.#failures.size > 100_000) this.#failures.clear();
  }

  recordSuccess(username: string): void {
    this.#failures.delete(`user:${username.toLowerCase()}`);
  }

  #recent(key: string): number[] {
    const cutoff = this.#now() - this.#windowMs;
    return (this.#failures.get(key) ?? []).filter((at) => at > cutoff);
  }

  #wait(key: string, max: number): number {
    const recent = this.#recent(key);
    if (recent.length < max) return 0;
    return (recent[recent.length - max] ?? 0) + this.#windowMs - this.#now();
  }
}
