import type { AuditTrail } from '@gatehouse/audit';
import type { Accounts } from '../accounts/accounts.js';
import { revokeGrant, type Store } from '../store/store.js';

/**
 * What an operator can change, from the CLI or the admin console, each on the audit trail with the
 * operator as actor (`admin_action`, or `key_rotation`). Removing a user or a client also revokes
 * its grants: refresh tokens stop, and access tokens answer inactive at introspection at once.
 */
export interface Operations {
  addUser(username: string, password: string): Promise<void>;
  /** False when there was no such user. */
  resetPassword(username: string, password: string): Promise<boolean>;
  removeUser(username: string): Promise<boolean>;
  /** A federated account, with its grants; its next sign-in upstream creates it again. */
  removeAccount(accountId: string): Promise<boolean>;
  /** False when there was no such (stored) client; configured clients cannot be deleted here. */
  deleteClient(clientId: string): Promise<boolean>;
  /** False when there was no such grant. */
  revokeGrant(grantId: string): Promise<boolean>;
  /** The new key ids. */
  rotateKeys(): Promise<string[]>;
}

/** Usernames local users may have (also what the sign-in form accepts). */
export const USERNAME_PATTERN = /^[\w.@-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 8;

/** A refused operation, with what to fix; its message is safe to show the operator. */
export class OperationError extends Error {
  override readonly name = 'OperationError';
}

export function createOperations(deps: {
  readonly store: Store;
  readonly accounts: Accounts;
  readonly audit: Pick<AuditTrail, 'record'>;
  /** Who acts: `cli:<os user>`, or the admin's account id. */
  readonly actor: string;
  /** The request, for the console; the CLI has none. */
  readonly requestId?: string | undefined;
  /** Rotates the signing keys (and, in a running server, starts signing with the new ones). */
  readonly rotateKeys: () => Promise<string[]>;
}): Operations {
  const { store, accounts, audit, actor } = deps;
  const record = (action: string, target: string, outcome: 'success' | 'failure' = 'success') =>
    audit.record({
      type: 'admin_action',
      outcome,
      actor,
      requestId: deps.requestId,
      detail: { action, target },
    });
  const checkPassword = (password: string) => {
    if (password.length < MIN_PASSWORD_LENGTH)
      throw new OperationError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  };
  const revokeGrants = async (grantIds: readonly string[]) => {
    for (const id of grantIds) await revokeGrant(store.models, id);
  };
  return {
    async addUser(username, password) {
      if (!USERNAME_PATTERN.test(username))
        throw new OperationError('a username has 1 to 64 letters, digits, . _ @ -');
      checkPassword(password);
      if (await accounts.exists(username)) throw new OperationError(`user ${username} exists`);
      await accounts.add(username, password);
      record('users add', username);
    },
    async resetPassword(username, password) {
      checkPassword(password);
      if (!(await accounts.exists(username))) {
        record('users reset-password', username, 'failure');
        return false;
      }
      await accounts.add(username, password);
      record('users reset-password', username);
      return true;
    },
    async removeUser(username) {
      const grants = (await store.grantsOf(username)).map(({ id }) => id);
      const removed = await store.deleteUser(username);
      if (removed) await revokeGrants(grants);
      record('users remove', username, removed ? 'success' : 'failure');
      return removed;
    },
    async removeAccount(accountId) {
      const removed = await accounts.federated.remove(accountId);
      record('accounts remove', accountId, removed ? 'success' : 'failure');
      return removed;
    },
    async deleteClient(clientId) {
      const existed = (await store.models.find('Client', clientId)) !== undefined;
      if (existed) {
        const grants = (await store.models.list('Grant'))
          .filter(({ payload }) => payload.clientId === clientId)
          .map(({ id }) => id);
        await revokeGrants(grants);
        await store.models.destroy('Client', clientId);
      }
      record('clients delete', clientId, existed ? 'success' : 'failure');
      return existed;
    },
    async revokeGrant(grantId) {
      const existed = (await store.models.find('Grant', grantId)) !== undefined;
      if (existed) await revokeGrants([grantId]);
      record('grants revoke', grantId, existed ? 'success' : 'failure');
      return existed;
    },
    async rotateKeys() {
      const kids = await deps.rotateKeys();
      audit.record({
        type: 'key_rotation',
        outcome: 'success',
        actor,
        requestId: deps.requestId,
        detail: { kids: kids.join(' ') },
      });
      return kids;
    },
  };
}
