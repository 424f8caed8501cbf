import { type FederatedAccounts, isFederatedAccountId } from '../accounts/federated-accounts.js';
import type { ResourceConfig } from '../config.js';
import type { Counters } from '../store/store.js';
import { FlowState } from './flow-state.js';
import { allowedScopes } from './scope-policy.js';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.js';
import type { UpstreamConfig } from './upstream-config.js';

/** Where upstream providers send people back, below the issuer. */
export const FEDERATION_CALLBACK_PATH = '/federation/callback';

/**
 * Sign-in through upstream identity providers (AUTH_FEDERATION): their clients, the flows in
 * progress, the accounts they created, and what those accounts may hold.
 */
export interface Federation {
  readonly upstreams: readonly UpstreamConfig[];
  client(id: string): UpstreamClient | undefined;
  readonly flows: FlowState;
  readonly accounts: FederatedAccounts;
  /**
   * The scopes `accountId` may hold at `resource`: `undefined` for a local account (no mapping
   * limits it), the upstream's `scope_grants` for a federated one (nothing when its upstream is
   * no longer configured).
   */
  allowedScopes(
    accountId: string,
    resource: ResourceConfig,
  ): Promise<readonly string[] | undefined>;
}

export function createFederation(
  upstreams: readonly UpstreamConfig[],
  deps: {
    readonly counters: Counters;
    readonly accounts: FederatedAccounts;
    readonly issuer: string;
  },
): Federation {
  const { accounts, issuer } = deps;
  const redirectUri = `${issuer}${FEDERATION_CALLBACK_PATH}`;
  const clients = new Map(
    upstreams.map((upstream) => [upstream.id, createUpstreamClient(upstream, { redirectUri })]),
  );
  return {
    upstreams,
    client: (id) => clients.get(id),
    flows: new FlowState(deps.counters),
    accounts,
    async allowedScopes(accountId, resource) {
      if (!isFederatedAccountId(accountId)) return undefined;
      const account = await accounts.get(accountId);
      const upstream = upstreams.find((candidate) => candidate.id === account?.upstream);
      if (!account || !upstream) return [];
      return allowedScopes(account.groups, upstream, resource);
    },
  };
}
