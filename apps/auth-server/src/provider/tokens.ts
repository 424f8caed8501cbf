import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.js';
import type { ResourceRegistry } from './resources.js';

/**
 * Token lifetimes and refresh-token policy. MCP clients get refresh tokens even when they never ask
 * for `offline_access` (configurable): many never do, and without one their user logs in again every
 * few minutes. Refresh tokens are not tied to the browser session and rotate on every use; a rotated-out
 * one presented again after the reuse interval revokes its grant (refresh-reuse.ts, grant-audit.ts, docs/refresh.md).
 */
export function tokenPolicy(config: Config, resources: ResourceRegistry) {
  return {
    ttl: {
      AccessToken: (
        _ctx: KoaContextWithOIDC,
        token: { resourceServer?: { accessTokenTTL?: number } },
      ) => token.resourceServer?.accessTokenTTL ?? config.ttl.accessToken,
      AuthorizationCode: config.ttl.code,
      ClientCredentials: config.ttl.accessToken,
      IdToken: config.ttl.accessToken,
      RefreshToken: config.ttl.refreshToken,
      // A grant must live as long as its refresh tokens can.
      Grant: config.ttl.refreshToken + config.ttl.session,
      Session: config.ttl.session,
      Interaction: 30 * 60,
    },
    async issueRefreshToken(
      _ctx: KoaContextWithOIDC,
      client: { grantTypeAllowed(type: string): boolean },
      code: { scopes: Set<string> },
    ): Promise<boolean> {
      if (!client.grantTypeAllowed('refresh_token')) return false;
      return config.alwaysIssueRefreshToken || code.scopes.has('offline_access');
    },
    rotateRefreshToken: () => true,
    // Refresh tokens outlive the browser session that created them.
    expiresWithSession: async () => false,
    accessTokenTtlFor(resource: string): number {
      return resources.get(resource)?.accessTokenTtl ?? config.ttl.accessToken;
    },
  };
}
