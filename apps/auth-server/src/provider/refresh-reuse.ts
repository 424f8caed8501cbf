import type { Logger } from '@gatehouse/logging';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ModelPayload } from '../store/store.js';

/**
 * Refresh-token reuse: what a rotated-out refresh token may still do, and what the operator sees
 * when one is replayed.
 *
 * Refresh tokens rotate on every use, and oidc-provider revokes the whole grant when a consumed one
 * is presented again (reuse detection, OAuth 2.1 §4.3.1). Real clients present the same token more
 * than once without any attack: parallel requests that all hit 401 at expiry each refresh (the MCP
 * TypeScript SDK has no single-flight), processes sharing one credentials file refresh at once, a
 * response is lost and the request retried. So for `intervalSeconds` after its first use a refresh
 * token still refreshes, as an unused one would: every racing caller gets a working pair of the same
 * grant (Auth0's "reuse interval", Okta's "grace period"). Presented after that, it is reuse and the
 * grant (one authorization's family, provider/grants.ts) is revoked. Everything else stays
 * oidc-provider's: client authentication, DPoP and client binding, expiry, and the grant check.
 */
export function refreshReuseInterval(
  intervalSeconds: number,
  now: () => number = Date.now,
): (model: string, payload: ModelPayload) => ModelPayload {
  return (model, payload) => {
    if (model !== 'RefreshToken' || typeof payload.consumed !== 'number') return payload;
    // `consumed` is the first use, in seconds: later uses never move it, so retries cannot extend it.
    if (now() / 1000 - payload.consumed >= intervalSeconds) return payload;
    const { consumed: _firstUse, ...unconsumed } = payload;
    return unconsumed;
  };
}

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
export function auditGrantRevocations(provider: Provider, logger: Logger): void {
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const oidc = ctx.oidc as unknown as RevocationContext;
    const { RefreshToken: refreshToken, AuthorizationCode: code, Account } = oidc.entities;
    const fields = {
      requestId: ctx.response.get('x-request-id') || undefined,
      clientId: oidc.client?.clientId,
      accountId: Account?.accountId ?? refreshToken?.accountId ?? code?.accountId,
      grantId,
    };
    if (oidc.route === 'token' && typeof refreshToken?.consumed === 'number') {
      logger.warn(
        {
          ...fields,
          event: 'refresh_token_reuse',
          firstUsedSecondsAgo: Math.round(Date.now() / 1000 - refreshToken.consumed),
        },
        'refresh token presented again after its reuse interval: grant revoked',
      );
    } else if (oidc.route === 'token' && typeof code?.consumed === 'number') {
      logger.warn(
        { ...fields, event: 'authorization_code_reuse' },
        'authorization code presented twice: grant revoked',
      );
    } else {
      logger.info({ ...fields, event: 'grant_revoked', route: oidc.route }, 'grant revoked');
    }
  });
}
