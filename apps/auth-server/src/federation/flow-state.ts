import type { Counters } from '../store/store.js';
import type { PendingUpstreamSignIn } from './upstream-client.js';
import type { UpstreamFailure } from './upstream-errors.js';

/**
 * The short-lived state between leaving for an upstream and coming back, kept server side (the
 * store's counters: shared on Redis, in process with SQLite) and used once:
 * - by `state`: which interaction and upstream the answer belongs to, and the PKCE verifier and
 *   nonce to check it with;
 * - by interaction uid: what the callback found out, for the interaction page to act on (only the
 *   browser holding that interaction's cookie can).
 */

const TTL_MS = 10 * 60_000;

export interface PendingFlow extends PendingUpstreamSignIn {
  readonly uid: string;
  readonly upstream: string;
}

export type FlowOutcome =
  | { readonly kind: 'signed-in'; readonly accountId: string }
  | { readonly kind: 'denied'; readonly upstream: string; readonly reason: string }
  | { readonly kind: 'failed'; readonly upstream: string; readonly failure: UpstreamFailure };

export class FlowState {
  readonly #counters: Counters;

  constructor(counters: Counters) {
    this.#counters = counters;
  }

  putPending(flow: PendingFlow): Promise<void> {
    return this.#counters.putValue(`federation:state:${flow.state}`, JSON.stringify(flow), TTL_MS);
  }

  takePending(state: string): Promise<PendingFlow | undefined> {
    return this.#take(`federation:state:${state}`) as Promise<PendingFlow | undefined>;
  }

  putOutcome(uid: string, outcome: FlowOutcome): Promise<void> {
    return this.#counters.putValue(`federation:outcome:${uid}`, JSON.stringify(outcome), TTL_MS);
  }

  takeOutcome(uid: string): Promise<FlowOutcome | undefined> {
    return this.#take(`federation:outcome:${uid}`) as Promise<FlowOutcome | undefined>;
  }

  async #take(key: string): Promise<unknown> {
    const raw = await this.#counters.getValue(key);
    if (raw === undefined) return undefined;
    await this.#counters.deleteValue(key);
    return JSON.parse(raw);
  }
}
