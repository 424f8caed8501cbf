/**
 * Refresh-grant load with rotating refresh tokens. Every answer carries a new refresh token and
 * the old one is spent, so a load generator cannot repeat one request: each of N chains (one
 * authorization each, all for one public client) sends its current refresh token and continues
 * with the one it gets back. autocannon builds every request from a shared pool (it keeps no state
 * per connection); with one request in flight per connection, every answer puts one token back
 * before the same connection takes the next, so the pool never runs dry while all answers succeed.
 *
 * A chain whose request fails is broken (its token is spent or refused); it is counted and, so
 * that the load stays the same, its place is taken by a spare chain if any is left. A request cut
 * off when autocannon stops at the end of a run also loses its chain: `repair()` refreshes each
 * remaining token once outside the load and replaces the ones that no longer work.
 */

export interface RefreshChains {
  /** The form body of the next request (a refresh grant with a pooled refresh token). */
  build(): string;
  /** Called with every answer: puts the new refresh token back in the pool, or counts a break. */
  onResponse(status: number, body: string): void;
  /** Chains lost during load (failed answers) since the last `takeBroken()`. */
  takeBroken(): number;
  /** Makes the pool hold `size` working refresh tokens again; returns how many were replaced. */
  repair(size: number): Promise<number>;
  /** Refresh tokens held now. */
  readonly size: number;
}

export function refreshChains(options: {
  tokenEndpoint: string;
  clientId: string;
  initial: readonly string[];
  /** A fresh refresh token for the same client (a new authorization), for repairs. */
  newChain: () => Promise<string>;
}): RefreshChains {
  const pool = [...options.initial];
  const spares: string[] = [];
  let broken = 0;
  const form = (refreshToken: string) =>
    new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: options.clientId,
      refresh_token: refreshToken,
    }).toString();
  const refreshOnce = async (refreshToken: string): Promise<string | undefined> => {
    const response = await fetch(options.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(refreshToken),
    });
    const body = (await response.json()) as { refresh_token?: string };
    return response.ok ? body.refresh_token : undefined;
  };
  return {
    build() {
      // An empty pool means chains broke and no spare was left: the request is then sent with a
      // spent token and fails, which the run reports as an error.
      return form(pool.pop() ?? spares.pop() ?? 'pool-exhausted');
    },
    onResponse(status, body) {
      const next =
        status === 200 ? (JSON.parse(body) as { refresh_token?: string }).refresh_token : undefined;
      if (next) {
        pool.push(next);
        return;
      }
      broken += 1;
      const spare = spares.pop();
      if (spare) pool.push(spare);
    },
    takeBroken() {
      const count = broken;
      broken = 0;
      return count;
    },
    async repair(size) {
      const held = pool.splice(0);
      for (const token of held) {
        const next = await refreshOnce(token);
        if (next) pool.push(next);
      }
      const missing = Math.max(0, size - pool.length);
      for (let i = 0; i < missing; i++) pool.push(await options.newChain());
      while (spares.length < Math.ceil(size / 4)) spares.push(await options.newChain());
      return missing;
    },
    get size() {
      return pool.length;
    },
  };
}
