import type { AuditTrail } from '@gatehouse/audit';
import type { Logger } from '@gatehouse/logging';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

interface RevocationContext {
  readonly route?: string;
  readonly client?: { readonly clientId: string };
  readonly entities: {
    readonly RefreshToken?: { readonly consumed?: number; readonly accountId?: string };
    readonly AuthorizationCode?: { readonly consumed?: number; readonly accountId?: string };
    readonly Account?: { readonly accountId: string };
  };
}

/**
 * One audit line per revoked grant, with why: a replayed refresh token or authorization code (a
 * warning: a stolen credential, or a client bug an operator has to see), or a revocation asked for.
 * Client, user and grant ids only; never a token or code.
 */
export function auditGrantRevocations(provider: Provider, logger: Logger, trail: AuditTrail): void {
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const oidc = ctx.oidc as unknown as RevocationContext;
    const { RefreshToken: refreshToken, AuthorizationCode: code, Account } = oidc.entities;
    const fields = {
      requestId: ctx.response.get('x-request-id') || undefined,
      clientId: oidc.client?.clientId,
      accountId: Account?.accountId ?? refreshToken?.accountId ?? code?.accountId,
      grantId,
    };
    const audit = (type: 'credential_reuse' | 'grant_revoked', reason: string) =>
      trail.record({
        type,
        outcome: 'success',
        actor: fields.accountId,
        client: fields.clientId,
        grant: grantId,
        requestId: fields.requestId,
        detail: { reason },
      });
    if (oidc.route === 'token' && typeof refreshToken?.consumed === 'number') {
      audit('credential_reuse', 'refresh_token_reuse');
      logger.warn(
        {
          ...fields,
          event: 'refresh_token_reuse',
          firstUsedSecondsAgo: Math.round(Date.now() / 1000 - refreshToken.consumed),
        },
        'refresh token presented again after its reuse interval: grant revoked',
      );
    } else if (oidc.route === 'token' && typeof code?.consumed === 'number') {
      audit('credential_reuse', 'authorization_code_reuse');
      logger.warn(
        { ...fields, event: 'authorization_code_reuse' },
        'authorization code presented twice: grant revoked',
      );
    } else {
      audit('grant_revoked', String(oidc.route ?? 'unknown'));
      logger.info({ ...fields, event: 'grant_revoked', route: oidc.route }, 'grant revoked');
    }
  });
}
