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
   * Creates or updates configured users. In dev mode with no users at all, creates `dev` with a random
   * password and returns it so startup can print it once.
   */
  async seed(users: readonly User[], dev: boolean): Promise<User | undefined> {
    for (const user of users) {
      const existing = this.#store.getUser(user.username);
      if (existing && (await verifyPassword(user.password, existing.passwordHash))) continue;
      this.#store.putUser(user.username, await hashPassword(user.password));
    }
    if (users.length > 0 || !dev || this.#store.listUsers().length > 0) return undefined;
    const devUser = { username: 'dev', password: randomBytes(9).toString('base64url') };
    this.#store.putUser(devUser.username, await hashPassword(devUser.password));
    return devUser;
  }

  /** The username when the password is right; `undefined` otherwise (same time either way). */
  async authenticate(username: string, password: string): Promise<string | undefined> {
    const user = this.#store.getUser(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    return ok && user ? user.username : undefined;
  }

  exists(username: string): boolean {
    return this.#store.getUser(username) !== undefined;
  }

  async add(username: string, password: string): Promise<void> {
    this.#store.putUser(username, await hashPassword(password));
  }
}
