import { createHash } from 'node:crypto';
import type { UpstreamIdentity } from '../federation/identity.js';
import { type ModelStore, revokeGrant, type Store } from '../store/store.js';

/**
 * People who signed in through an upstream identity provider, created at their first sign-in
 * (just in time) and updated at each one. The account id is `<upstream id>:<upstream subject>`
 * (the subject hashed when it is not a plain token): stable across sign-ins and email changes,
 * and never a local username (those cannot contain `:`). Kept as a store model without expiry,
 * so SQLite and Redis hold them alike.
 */

const MODEL = 'FederatedAccount';

export interface FederatedAccount {
  readonly accountId: string;
  readonly upstream: string;
  readonly subject: string;
  readonly username: string | undefined;
  readonly email: string | undefined;
  readonly name: string | undefined;
  /** The groups of the last sign-in: what the scope mapping reads until the next one. */
  readonly groups: readonly string[];
  readonly createdAt: number;
  readonly lastSignInAt: number;
}

/** Whether `accountId` names a federated account (local usernames have no `:`). */
export const isFederatedAccountId = (accountId: string) => accountId.includes(':');

export function federatedAccountId(upstream: string, subject: string): string {
  const plain = /^[\w.@-]{1,128}$/.test(subject);
  return `${upstream}:${plain ? subject : createHash('sha256').update(subject).digest('base64url')}`;
}

export class FederatedAccounts {
  readonly #store: Pick<Store, 'models' | 'grantsOf'>;
  readonly #models: ModelStore;

  constructor(store: Pick<Store, 'models' | 'grantsOf'>) {
    this.#store = store;
    this.#models = store.models;
  }

  /** Creates or updates the account of `identity` at `upstream`; returns it. */
  async signedIn(
    upstream: string,
    identity: UpstreamIdentity,
    now = Date.now(),
  ): Promise<FederatedAccount> {
    const accountId = federatedAccountId(upstream, identity.subject);
    const existing = await this.get(accountId);
    const account: FederatedAccount = {
      accountId,
      upstream,
      subject: identity.subject,
      username: identity.username,
      email: identity.email,
      name: identity.name,
      groups: [...identity.groups],
      createdAt: existing?.createdAt ?? now,
      lastSignInAt: now,
    };
    await this.#models.upsert(MODEL, accountId, { ...account }, undefined);
    return account;
  }

  async get(accountId: string): Promise<FederatedAccount | undefined> {
    if (!isFederatedAccountId(accountId)) return undefined;
    return (await this.#models.find(MODEL, accountId)) as unknown as FederatedAccount | undefined;
  }

  async list(): Promise<FederatedAccount[]> {
    return (await this.#models.list(MODEL)).map(
      ({ payload }) => payload as unknown as FederatedAccount,
    );
  }

  /**
   * Removes the account and revokes every grant it holds with their tokens; returns whether it
   * existed. Its refresh tokens stop at once, its JWT access tokens at introspection (the grant is
   * gone) and at their expiry elsewhere.
   */
  async remove(accountId: string): Promise<boolean> {
    const existing = await this.get(accountId);
    for (const { id } of await this.#store.grantsOf(accountId)) await revokeGrant(this.#models, id);
    if (!existing) return false;
    await this.#models.destroy(MODEL, accountId);
    return true;
  }
}
