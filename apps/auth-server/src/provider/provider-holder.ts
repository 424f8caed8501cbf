import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';

type Jwks = { keys: JWK[] };

/**
 * The current oidc-provider instance. oidc-provider takes its signing keys at construction, so a key
 * rotation (by the CLI, or by another instance on the same Redis) is applied by building a new
 * provider over the same store and swapping it in: requests in flight finish on the old one, every
 * state lives in the store, so sessions, interactions and grants carry over.
 */
export class ProviderHolder {
  readonly #create: (jwks: Jwks) => Provider;
  readonly #listeners: Array<(provider: Provider) => void> = [];
  #current: Provider;
  /** Composed on first use: koa fixes a callback's middleware when `callback()` is called. */
  #callback: ReturnType<Provider['callback']> | undefined;
  #kids: string;

  constructor(create: (jwks: Jwks) => Provider, jwks: Jwks) {
    this.#create = create;
    this.#current = create(jwks);
    this.#kids = kidsOf(jwks);
  }

  get current(): Provider {
    return this.#current;
  }

  /** Serves a request with the current provider. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    this.#callback ??= this.#current.callback();
    return this.#callback(req, res);
  }

  /** Calls `listener` with the current provider and with every provider swapped in later. */
  onProvider(listener: (provider: Provider) => void): void {
    this.#listeners.push(listener);
    listener(this.#current);
    this.#callback = undefined;
  }

  /** Swaps in a provider with `jwks` when its key ids differ from the current ones; true if so. */
  update(jwks: Jwks): boolean {
    const kids = kidsOf(jwks);
    if (kids === this.#kids) return false;
    const next = this.#create(jwks);
    for (const listener of this.#listeners) listener(next);
    this.#current = next;
    this.#callback = undefined;
    this.#kids = kids;
    return true;
  }
}

const kidsOf = (jwks: Jwks) => jwks.keys.map((key) => key.kid).join(',');
