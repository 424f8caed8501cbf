import type { AuditTrail } from '@gatehouse/audit';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * What oidc-provider does, on the audit trail: tokens issued and refreshed (failed refreshes too),
 * clients registered, opaque access tokens revoked. Ids, grant types, scopes and hosts; never a credential.
 */

interface TokenEntities {
  readonly AuthorizationCode?: { readonly grantId?: string; readonly accountId?: string };
  readonly RefreshToken?: { readonly grantId?: string; readonly accountId?: string };
  readonly AccessToken?: {
    readonly aud?: string | string[];
    readonly scope?: string;
    readonly grantId?: string;
  };
  readonly ClientCredentials?: { readonly aud?: string | string[]; readonly scope?: string };
  readonly Account?: { readonly accountId: string };
}

const TOKEN_EVENTS = {
  authorization_code: 'token_issued',
  client_credentials: 'token_issued',
  refresh_token: 'token_refreshed',
} as const;

const requestIdOf = (ctx: KoaContextWithOIDC) => ctx.response.get('x-request-id') || undefined;
const first = (aud: string | string[] | undefined) => (Array.isArray(aud) ? aud[0] : aud);

export function auditProviderEvents(provider: Provider, trail: AuditTrail): void {
  if (!trail.enabled) return;
  provider.on('grant.success', (ctx) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? '');
    const type = TOKEN_EVENTS[grantType as keyof typeof TOKEN_EVENTS];
    if (!type) return;
    const entities = ctx.oidc.entities as TokenEntities;
    const issued = entities.AccessToken ?? entities.ClientCredentials;
    const clientId = ctx.oidc.client?.clientId;
    trail.record({
      type,
      outcome: 'success',
      actor: entities.Account?.accountId ?? clientId,
      client: clientId,
      resource: first(issued?.aud),
      grant:
        entities.AccessToken?.grantId ??
        entities.RefreshToken?.grantId ??
        entities.AuthorizationCode?.grantId,
      requestId: requestIdOf(ctx),
      detail: { grant_type: grantType, scope: issued?.scope ?? '' },
    });
  });
  provider.on('grant.error', (ctx, error) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? '');
    const type = TOKEN_EVENTS[grantType as keyof typeof TOKEN_EVENTS];
    if (!type) return;
    trail.record({
      type,
      outcome: 'failure',
      client: ctx.oidc.client?.clientId ?? (ctx.oidc.params?.client_id as string | undefined),
      requestId: requestIdOf(ctx),
      detail: {
        grant_type: grantType,
        error: (error as { error?: string }).error ?? 'server_error',
      },
    });
  });
  provider.on('registration_create.success', (ctx, client) => {
    trail.record({
      type: 'client_registered',
      outcome: 'success',
      client: client.clientId,
      requestId: requestIdOf(ctx),
      detail: {
        via: 'dcr',
        name: String(client.clientName ?? ''),
        redirect_hosts: redirectHosts(client.redirectUris),
      },
    });
  });
  // A revoked opaque access token (a refresh token's revocation revokes its grant: grant-audit).
  const revoked = (token: { clientId?: string; grantId?: string; accountId?: string }) =>
    trail.record({
      type: 'token_revoked',
      outcome: 'success',
      actor: token.accountId ?? token.clientId,
      client: token.clientId,
      grant: token.grantId,
      detail: { token_type: 'access_token' },
    });
  // (Model events: typed per model in @types/oidc-provider, one listener shape here.)
  const onModel = provider.addListener.bind(provider) as (
    event: string,
    listener: typeof revoked,
  ) => Provider;
  onModel('access_token.destroyed', revoked);
  onModel('client_credentials.destroyed', revoked);
}

/** `host` (or `scheme:` for a native app's private-use URI) of each redirect URI, sorted. */
export function redirectHosts(uris: readonly string[] | undefined): string {
  const hosts = new Set<string>();
  for (const uri of uris ?? []) {
    const parsed = URL.parse(uri);
    if (parsed) hosts.add(parsed.protocol.startsWith('http') ? parsed.host : parsed.protocol);
  }
  return [...hosts].sort().join(' ');
}
