import { obtainToken } from '@gatehouse/testkit';

/**
 * Fresh Keycloak access tokens for a bench that outlives one: the realm's access tokens live 300 s,
 * so each call refreshes the authorization obtained first (one sign-in) and returns the new token.
 */
export async function keycloakTokenSource(options: {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly resource: string;
  readonly scope: string;
}): Promise<() => Promise<string>> {
  let tokens = await obtainToken(options.issuer, options.resource, options.scope);
  return async () => {
    const response = await fetch(options.tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: tokens.clientId,
        refresh_token: tokens.refreshToken,
      }),
    });
    const body = (await response.json()) as { access_token: string; refresh_token: string };
    if (!response.ok) throw new Error(`Keycloak refresh failed: HTTP ${response.status}`);
    tokens = { ...tokens, accessToken: body.access_token, refreshToken: body.refresh_token };
    return body.access_token;
  };
}
