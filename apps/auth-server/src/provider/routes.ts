/**
 * The one table of endpoint paths, relative to the issuer. oidc-provider's `routes` configuration
 * and every koa middleware that acts on an endpoint (rate limits, registration guard, CORS,
 * parameter canonicalisation, refresh retries, interaction pages) read their paths from here, so
 * the two can never disagree.
 *
 * - `none`: Gatehouse's own layout (oidc-provider's defaults).
 * - `keycloak`: the paths of a Keycloak realm. With it the issuer is `<origin>/realms/<realm>`
 *   (see config.ts), so the full URLs match Keycloak's, e.g.
 *   `https://host/realms/mcp/protocol/openid-connect/token`.
 */

export const COMPAT_MODES = ['none', 'keycloak'] as const;
export type Compat = (typeof COMPAT_MODES)[number];

export interface Routes {
  readonly authorization: string;
  readonly token: string;
  readonly introspection: string;
  readonly revocation: string;
  readonly jwks: string;
  readonly userinfo: string;
  readonly end_session: string;
  readonly registration: string;
  readonly pushed_authorization_request: string;
  /** Login and consent pages (`<interaction>/:uid`); ours, not oidc-provider's. */
  readonly interaction: string;
}

const GATEHOUSE: Routes = {
  authorization: '/auth',
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  jwks: '/jwks',
  userinfo: '/me',
  end_session: '/session/end',
  registration: '/reg',
  pushed_authorization_request: '/request',
  interaction: '/interaction',
};

const OPENID_CONNECT = '/protocol/openid-connect';

const KEYCLOAK: Routes = {
  authorization: `${OPENID_CONNECT}/auth`,
  token: `${OPENID_CONNECT}/token`,
  introspection: `${OPENID_CONNECT}/token/introspect`,
  revocation: `${OPENID_CONNECT}/revoke`,
  jwks: `${OPENID_CONNECT}/certs`,
  userinfo: `${OPENID_CONNECT}/userinfo`,
  end_session: `${OPENID_CONNECT}/logout`,
  registration: '/clients-registrations/openid-connect',
  pushed_authorization_request: `${OPENID_CONNECT}/ext/par/request`,
  // Keycloak's own login pages live elsewhere; no client builds these URLs, so ours stay.
  interaction: '/interaction',
};

export function routesFor(compat: Compat): Routes {
  return compat === 'keycloak' ? KEYCLOAK : GATEHOUSE;
}

/** The part of {@link Routes} that is oidc-provider's `routes` configuration. */
export function providerRoutes(routes: Routes) {
  const { interaction: _ours, ...provider } = routes;
  return provider;
}
