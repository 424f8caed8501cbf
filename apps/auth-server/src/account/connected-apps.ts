import type { AuditTrail, GrantActivity } from '@gatehouse/audit';
import { redirectHosts } from '../audit/provider-audit.js';
import { ACCOUNT_CLIENT_ID } from '../provider/account-client.js';
import { type ModelPayload, revokeGrant, type Store } from '../store/store.js';

/** How a client came to exist: a registration request, a metadata document URL, or the operator. */
export type ClientOrigin = 'dynamic registration' | 'metadata document' | 'configuration';

/** What the account page shows of a client, from the provider's client (cached documents too). */
export interface ClientFacts {
  readonly name: string | undefined;
  readonly redirectUris: readonly string[];
}

/** One client a person granted access to, over all its grants (one per authorization). */
export interface ConnectedApp {
  readonly clientId: string;
  readonly name: string;
  readonly origin: ClientOrigin;
  /** `host` of each redirect URI (or `scheme:` for a native app), sorted. */
  readonly redirectHosts: string;
  /** Scopes per resource (and `openid` under the empty key when granted), over every grant. */
  readonly scopes: ReadonlyMap<string, readonly string[]>;
  readonly grants: number;
  /** The oldest grant's time (ms). */
  readonly firstUsedAt: number | undefined;
  /** The latest token issued, refresh, or tool call the trail saw (ms). */
  readonly lastUsedAt: number | undefined;
}

export interface ConnectedAppsDependencies {
  readonly store: Pick<Store, 'grantsOf' | 'models'>;
  readonly audit: Pick<AuditTrail, 'activity' | 'record'>;
  readonly configuredClientIds: ReadonlySet<string>;
  /** The client as the provider knows it; undefined when it is gone. */
  clientFacts(clientId: string): Promise<ClientFacts | undefined>;
}

export function originOf(clientId: string, configured: ReadonlySet<string>): ClientOrigin {
  if (configured.has(clientId)) return 'configuration';
  return clientId.startsWith('https://') ? 'metadata document' : 'dynamic registration';
}

interface GrantPayload extends ModelPayload {
  readonly clientId?: string;
  readonly iat?: number;
  readonly openid?: { readonly scope?: string };
  readonly resources?: Readonly<Record<string, string>>;
}

/** The clients `accountId` granted access to, most recently used first. */
export async function connectedApps(
  accountId: string,
  deps: ConnectedAppsDependencies,
): Promise<ConnectedApp[]> {
  const grants = (await deps.store.grantsOf(accountId)).filter(
    ({ payload }) => typeof payload.clientId === 'string' && payload.clientId !== ACCOUNT_CLIENT_ID,
  );
  const activity = await deps.audit.activity(grants.map(({ id }) => id));
  const byClient = new Map<string, Array<{ id: string; payload: GrantPayload }>>();
  for (const grant of grants) {
    const clientId = String(grant.payload.clientId);
    byClient.set(clientId, [...(byClient.get(clientId) ?? []), grant]);
  }
  const apps: ConnectedApp[] = [];
  for (const [clientId, clientGrants] of byClient) {
    const facts = await deps.clientFacts(clientId).catch(() => undefined);
    const scopes = new Map<string, Set<string>>();
    const add = (resource: string, scope: string | undefined) => {
      for (const one of scope?.split(' ') ?? []) {
        if (one) scopes.set(resource, (scopes.get(resource) ?? new Set()).add(one));
      }
    };
    let first: number | undefined;
    let last: number | undefined;
    for (const { id, payload } of clientGrants) {
      add('', payload.openid?.scope);
      for (const [resource, scope] of Object.entries(payload.resources ?? {})) add(resource, scope);
      if (typeof payload.iat === 'number') first = Math.min(first ?? Infinity, payload.iat * 1000);
      last = latest(last, activity.get(id));
    }
    // The grant's OpenID Connect scopes also list the resource scopes the client asked for;
    // each is shown once, with its resource.
    const forResources = new Set([...scopes].flatMap(([key, set]) => (key ? [...set] : [])));
    for (const scope of forResources) scopes.get('')?.delete(scope);
    if (scopes.get('')?.size === 0) scopes.delete('');
    apps.push({
      clientId,
      name: facts?.name || clientId,
      origin: originOf(clientId, deps.configuredClientIds),
      redirectHosts: redirectHosts(facts?.redirectUris),
      scopes: new Map([...scopes].map(([resource, set]) => [resource, [...set].sort()])),
      grants: clientGrants.length,
      firstUsedAt: first,
      lastUsedAt: last ?? first,
    });
  }
  return apps.sort((a, b) => (b.lastUsedAt ?? 0) - (a.lastUsedAt ?? 0));
}

function latest(
  current: number | undefined,
  activity: GrantActivity | undefined,
): number | undefined {
  const times = [current, activity?.issuedAt, activity?.refreshedAt, activity?.usedAt].filter(
    (time): time is number => time !== undefined,
  );
  return times.length > 0 ? Math.max(...times) : undefined;
}

/**
 * Revokes every grant `accountId` gave `clientId`: its refresh tokens stop at once, and its
 * access tokens answer inactive at introspection (and at UserInfo) because their grant is gone.
 * A JWT a resource server verifies on its own stays valid until it expires (AUTH_ACCESS_TOKEN_TTL).
 * Returns how many grants were revoked (0: nothing of this client's to revoke).
 */
export async function revokeConnectedApp(
  accountId: string,
  clientId: string,
  deps: Pick<ConnectedAppsDependencies, 'store' | 'audit'> & {
    readonly actor: string;
    readonly requestId: string | undefined;
    readonly via: string;
  },
): Promise<number> {
  const grants = (await deps.store.grantsOf(accountId)).filter(
    ({ payload }) => payload.clientId === clientId,
  );
  for (const { id } of grants) {
    await revokeGrant(deps.store.models, id);
    deps.audit.record({
      type: 'grant_revoked',
      outcome: 'success',
      actor: deps.actor,
      client: clientId,
      grant: id,
      requestId: deps.requestId,
      detail: { reason: deps.via, account: accountId },
    });
  }
  return grants.length;
}
