import { randomBytes } from 'node:crypto';
import type { User } from '../config.js';
import type { Store } from '../store/store.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';

/** Users: seeding from configuration, login checks, and the account view oidc-provider needs. */
export class Accounts {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Creates or updates configured users. In dev mode with no users configured, there is a `dev`
   * user whose random password is kept in the store (dev mode only: loopback issuers) so every start
   * can print it; `undefined` when there is no dev user.
   */
  async seed(users: readonly User[], dev: boolean): Promise<User | undefined> {
    for (const user of users) {
      const existing = await this.#store.getUser(user.username);
      if (existing && (await verifyPassword(user.password, existing.passwordHash))) continue;
      await this.#store.putUser(user.username, await hashPassword(user.password));
    }
    if (users.length > 0 || !dev) return undefined;
    const others = (await this.#store.listUsers()).filter((name) => name !== 'dev');
    if (others.length > 0) return undefined;
    const password = await this.#store.secret('dev-user-password', () =>
      randomBytes(9).toString('base64url'),
    );
    const existing = await this.#store.getUser('dev');
    if (!existing || !(await verifyPassword(password, existing.passwordHash))) {
      await this.#store.putUser('dev', await hashPassword(password));
    }
    return { username: 'dev', password };
  }

  /** Re-creates configured users the store has lost (e.g. a Redis without persistence restarted). */
  async restoreMissing(users: readonly User[]): Promise<number> {
    let restored = 0;
    for (const user of users) {
      if (await this.#store.getUser(user.username)) continue;
      await this.#store.putUser(user.username, await hashPassword(user.password));
      restored += 1;
    }
    return restored;
  }

  /** The username when the password is right; `undefined` otherwise (same time either way). */
  async authenticate(username: string, password: string): Promise<string | undefined> {
    const user = await this.#store.getUser(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    return ok && user ? user.username : undefined;
  }

  async exists(username: string): Promise<boolean> {
    return (await this.#store.getUser(username)) !== undefined;
  }

  async add(username: string, password: string): Promise<void> {
    await this.#store.putUser(username, await hashPassword(password));
  }
}
