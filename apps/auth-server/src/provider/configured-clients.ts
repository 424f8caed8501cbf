import { ConfigError } from '@gatehouse/server-kit';
import type Provider from 'oidc-provider';
import type { StaticClientConfig } from '../config.js';

/**
 * Clients the operator configures (`AUTH_CLIENTS`), as written: a client with only `client_id` and
 * `client_secret` is a confidential client without a browser flow (a resource server that
 * introspects and revokes, as the tutorial's Keycloak client is, or a machine-to-machine job with
 * client credentials, limited to its `scope` when it has one), authenticated by its secret in
 * the Authorization header or the form body (oidc-provider accepts both for either method, as
 * Keycloak does). oidc-provider checks static clients only when one is first used; every entry is
 * checked at startup instead, with the same rules, so a bad one stops the server with its reason.
 */

export function configuredClientMetadata(client: StaticClientConfig): Record<string, unknown> {
  // No redirect URI: no browser, so no response types and no user grants; client credentials.
  const browserless = client.redirect_uris.length === 0;
  return {
    ...(browserless ? { response_types: [], grant_types: ['client_credentials'] } : {}),
    ...client,
    token_endpoint_auth_method:
      client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_basic' : 'none'),
  };
}

/** What to change, for the messages oidc-provider gives a client it refuses. */
const FIXES: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /redirect_uris (must contain members|is mandatory)/,
    'give it redirect_uris for a browser sign-in, or leave out response_types and grant_types for a client that only introspects and revokes',
  ],
  [
    /grant_types can only contain/,
    'use authorization_code and refresh_token (with redirect_uris), or client_credentials',
  ],
  [
    /jwks or jwks_uri is mandatory/,
    'give it jwks (its public keys) or jwks_uri for private_key_jwt, or use a client_secret',
  ],
  [/client_secret is mandatory/, 'give it a client_secret, or token_endpoint_auth_method "none"'],
  [/response_types/, 'use response_types ["code"] with redirect_uris, or [] without'],
];

/** Loads every configured client as the provider will; a refused one stops startup. */
export async function validateConfiguredClients(
  provider: Provider,
  clients: readonly StaticClientConfig[],
): Promise<void> {
  const problems: string[] = [];
  for (const { client_id: id } of clients) {
    try {
      await provider.Client.find(id);
    } catch (error) {
      const reason =
        (error as { error_description?: string }).error_description ?? (error as Error).message;
      const fix = FIXES.find(([pattern]) => pattern.test(reason))?.[1];
      problems.push(`- AUTH_CLIENTS: client "${id}": ${reason}${fix ? `; ${fix}` : ''}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}
