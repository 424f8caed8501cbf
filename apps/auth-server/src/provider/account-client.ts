/**
 * The account page's own client: the page signs people in by the same authorization flow as any
 * MCP client (password or upstream, throttling, audit), as Keycloak's account console does. Public,
 * PKCE, `openid` only, no resource; consent is implied (show.ts) and its authorization code is
 * never exchanged: the callback destroys it and its grant (http/account.ts). It is not a
 * configured client, so it may not introspect or revoke anything.
 */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';

/** Below the issuer: the page, and where the sign-in comes back to. */
export const ACCOUNT_PATH = '/account';
export const ACCOUNT_CALLBACK_PATH = '/account/callback';

export function accountClientMetadata(issuer: string): Record<string, unknown> {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your Gatehouse account',
    redirect_uris: [`${issuer}${ACCOUNT_CALLBACK_PATH}`],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid',
  };
}
