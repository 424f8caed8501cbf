import { randomBytes } from 'node:crypto';
import type { User } from '../config.js';
import type { Store } from '../store/store.js';
import { FederatedAccounts, isFederatedAccountId } from './federated-accounts.js';
import { decoyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';

/**
 * Users: seeding from configuration, login checks, and the account view oidc-provider needs;
 * local users (passwords) and federated accounts (signed in through an upstream provider) alike.
 */
export class Accounts {
  readonly #store: Store;
  readonly federated: FederatedAccounts;

  constructor(store: Store) {
    this.#store = store;
    this.federated = new FederatedAccounts(store);
  }

  /**
   * The claims of an account that still exists (OIDC_CLAIMS), or `undefined`: a removed account
   * stops its refresh tokens and its UserInfo.
   */
  async claimsOf(
    accountId: string,
  ): Promise<{ sub: string; preferred_username: string } | undefined> {
    if (!isFederatedAccountId(accountId)) {
      return (await this.exists(accountId))
        ? { sub: accountId, preferred_username: accountId }
        : undefined;
    }
    const account = await this.federated.get(accountId);
    return account && { sub: accountId, preferred_username: account.username ?? accountId };
  }

  /** Whether any local (password) user exists: the sign-in page shows its form only then. */
  async hasLocalUsers(): Promise<boolean> {
    return (await this.#store.listUsers()).length > 0;
  }

  /**
   * Creates or updates configured users; a user whose stored hash still verifies the configured
   * password is rewritten only when that hash is weaker than what we write now. In dev mode with no
   * users configured, there is a `dev` user whose random password is kept in the store (dev mode
   * only: loopback issuers) so every start can print it; `undefined` when there is no dev user.
   */
  async seed(users: readonly User[], dev: boolean): Promise<User | undefined> {
    for (const user of users) {
      const existing = await this.#store.getUser(user.username);
      if (existing && (await this.#current(user.password, existing.passwordHash))) continue;
      await this.#store.putUser(user.username, await hashPassword(user.password));
    }
    if (users.length > 0 || !dev) return undefined;
    const others = (await this.#store.listUsers()).filter((name) => name !== 'dev');
    if (others.length > 0) return undefined;
    const password = await this.#store.secret('dev-user-password', () =>
      randomBytes(9).toString('base64url'),
    );
    const existing = await this.#store.getUser('dev');
    if (!existing || !(await this.#current(password, existing.passwordHash))) {
      await this.#store.putUser('dev', await hashPassword(password));
    }
    return { username: 'dev', password };
  }

  /**
   * Re-creates configured users the store has lost (e.g. a Redis without persistence restarted),
   * with new (argon2id) hashes. Users still there are not checked: this runs every few seconds, and
   * seed() at startup and the next sign-in already upgrade their hashes.
   */
  async restoreMissing(users: readonly User[]): Promise<number> {
    let restored = 0;
    for (const user of users) {
      if (await this.#store.getUser(user.username)) continue;
      await this.#store.putUser(user.username, await hashPassword(user.password));
      restored += 1;
    }
    return restored;
  }

  /**
   * The username when the password is right; `undefined` otherwise (same time either way: unknown
   * users are checked against a decoy hash of the current cost). After a successful sign-in, a hash
   * weaker than what we write now (scrypt, or argon2id with lower parameters) is replaced.
   */
  async authenticate(username: string, password: string): Promise<string | undefined> {
    const user = await this.#store.getUser(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? decoyHash());
    if (!ok || !user) return undefined;
    if (needsRehash(user.passwordHash))
      await this.#upgrade(user.username, user.passwordHash, password);
    return user.username;
  }

  /**
   * Stores a new hash for a user whose old one just verified. Best effort: a failure leaves the old
   * hash, which still verifies and is upgraded at the next sign-in, and never fails the sign-in.
   * The hash is stored only if the user still has the one that verified, so a password changed or a
   * user removed meanwhile (CLI) is not undone; the store has no compare-and-set, so a change in the
   * instant between that check and the write could still be overwritten.
   */
  async #upgrade(username: string, verified: string, password: string): Promise<void> {
    try {
      const upgraded = await hashPassword(password);
      if ((await this.#store.getUser(username))?.passwordHash !== verified) return;
      await this.#store.putUser(username, upgraded);
    } catch {
      // Retried at the next sign-in.
    }
  }

  /** True when `stored` needs no upgrade and verifies `password` (else a new hash is written). */
  async #current(password: string, stored: string): Promise<boolean> {
    return !needsRehash(stored) && (await verifyPassword(password, stored));
  }

  async exists(username: string): Promise<boolean> {
    return (await this.#store.getUser(username)) !== undefined;
  }

  async add(username: string, password: string): Promise<void> {
    await this.#store.putUser(username, await hashPassword(password));
  }
}
