import type { Counters } from './store.js';

/** {@link Counters} in process memory, bounded: for a store that serves one process (SQLite). */
export class MemoryCounters implements Counters {
  readonly #windows = new Map<string, { start: number; count: number; windowMs: number }>();
  readonly #events = new Map<string, number[]>();
  readonly #values = new Map<string, { value: string; expiresAt: number }>();

  async countHit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= window.windowMs) {
      if (this.#windows.size > 100_000) this.#windows.clear();
      window = { start: now, count: 0, windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetInMs: window.start + window.windowMs - now };
  }

  async addEvent(key: string, at: number, windowMs: number): Promise<void> {
    const recent = (this.#events.get(key) ?? []).filter((time) => time > at - windowMs);
    recent.push(at);
    if (this.#events.size > 100_000) this.#events.clear();
    this.#events.set(key, recent);
  }

  async recentEvents(key: string, windowMs: number, now: number): Promise<number[]> {
    return (this.#events.get(key) ?? []).filter((time) => time > now - windowMs);
  }

  async clearEvents(key: string): Promise<void> {
    this.#events.delete(key);
  }

  async putValue(key: string, value: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    if (this.#values.size > 10_000) {
      for (const [name, entry] of this.#values)
        if (entry.expiresAt < now) this.#values.delete(name);
    }
    this.#values.set(key, { value, expiresAt: now + ttlMs });
  }

  async getValue(key: string): Promise<string | undefined> {
    const entry = this.#values.get(key);
    return entry && entry.expiresAt >= Date.now() ? entry.value : undefined;
  }

  async deleteValue(key: string): Promise<void> {
    this.#values.delete(key);
  }
}
