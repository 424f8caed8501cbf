/**
 * An `AUTH_CLIENTS` entry for a resource server that introspects tokens at our authorization server:
 * a confidential client with a secret and no grants of its own (it cannot obtain tokens), as the
 * tutorial's Keycloak client `mcp-server` is.
 */
export function introspectionClient(
  credentials: { readonly id: string; readonly secret: string },
  authMethod: 'client_secret_basic' | 'client_secret_post' = 'client_secret_basic',
) {
  return {
    client_id: credentials.id,
    client_secret: credentials.secret,
    grant_types: [],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: authMethod,
  };
}
