import type { TokenVerifier } from '@gatehouse/auth-core';
import { sendOAuthError } from '@gatehouse/server-kit';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { type FindGrant, liveGrantOf } from './introspection.js';

/**
 * UserInfo for our JWT access tokens. Every access token here is bound to a resource, and
 * oidc-provider answers UserInfo only for opaque tokens without an audience, so a client that
 * asked for `openid` with a resource got 401 for every token. This middleware (for `provider.use`)
 * answers for a JWT of ours whose grant is alive and holds `openid`, the user's consent to share
 * who they are with that client (the token's own `scope` holds only the resource's scopes), with
 * the claims that grant's OpenID scopes allow (`profile`: `preferred_username`), with the
 * provider's CORS rule for browser clients. Anything else goes on to the provider, which refuses it
 * as before.
 */

const BEARER_JWT = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
/** The claims each OpenID scope releases (the provider's `claims` configuration too). */
export const OIDC_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub'],
  profile: ['preferred_username'],
};

/**
 * The provider's `clientBasedCORS` rule, for UserInfo too: a public client's page may call us from
 * the origin of one of its redirect URIs; confidential clients have no page to call from.
 */
export function corsAllowedFor(
  origin: string,
  client: {
    readonly clientAuthMethod?: string | undefined;
    readonly redirectUris?: readonly string[] | undefined;
  },
): boolean {
  if (origin === 'null' || client.clientAuthMethod !== 'none') return false;
  return (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin);
}

export function jwtUserinfo(options: {
  readonly path: string;
  readonly verifier: TokenVerifier;
  /** The account's claims (the provider's `findAccount`). */
  readonly claimsOf: (accountId: string) => Promise<Record<string, unknown> | undefined>;
  /** The provider's `Grant.find` (no `ctx.oidc` yet in front of the provider's routes). */
  readonly findGrant: FindGrant;
  /** Whether the token's client may read the answer from a page on `origin` (CORS). */
  readonly corsAllowed: (origin: string, clientId: string) => Promise<boolean>;
}) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    if (ctx.path !== options.path || (ctx.method !== 'GET' && ctx.method !== 'POST')) return next();
    const token = BEARER_JWT.exec(ctx.get('authorization'))?.[1];
    if (!token) return next();
    const verified = await options.verifier.verify(token).catch(() => undefined);
    // DPoP-bound tokens need their proof checked: left to the provider, which refuses JWTs.
    if (!verified || verified.dpopJkt) return next();
    const grant = await liveGrantOf(verified, options.findGrant);
    if (!grant) return next();
    // Our answer never reaches the provider's CORS middleware: the same rule, applied here.
    const origin = ctx.get('origin');
    if (origin) {
      ctx.vary('Origin');
      if (!(await options.corsAllowed(origin, verified.clientId))) {
        sendOAuthError(ctx, 400, 'invalid_request', 'origin not allowed for this client');
        return;
      }
      ctx.set('access-control-allow-origin', origin);
      ctx.set('access-control-expose-headers', 'WWW-Authenticate');
    }
    const scopes = new Set((grant.getOIDCScope() ?? '').split(' '));
    if (!scopes.has('openid')) {
      ctx.set('www-authenticate', 'Bearer error="insufficient_scope", scope="openid"');
      sendOAuthError(ctx, 403, 'insufficient_scope', 'the access token was not issued for openid');
      return;
    }
    const claims = (await options.claimsOf(verified.subject ?? '')) ?? {};
    const allowed = new Set([...scopes].flatMap((scope) => OIDC_CLAIMS[scope] ?? []));
    ctx.set('cache-control', 'no-store');
    ctx.body = Object.fromEntries(Object.entries(claims).filter(([name]) => allowed.has(name)));
  };
}
