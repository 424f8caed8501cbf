import { keycloakCacheDir, type RunningKeycloak, startKeycloak } from '@gatehouse/keycloak-runner';
import { freePort, type StartedProcess, startMcpServerApp } from '@gatehouse/testkit';

/**
 * A real Keycloak (the `mcp` realm from infra/keycloak) and our MCP server pointed at it by
 * environment variables alone, as a user would after `pnpm keycloak`.
 */

export const KEYCLOAK_INTROSPECTION = {
  id: 'mcp-server',
  secret: 'e2e-keycloak-introspection-secret',
};

export interface KeycloakRealm {
  readonly keycloak: RunningKeycloak;
  /** The MCP resource the realm's audience mappers name (the MCP server must serve it). */
  readonly mcpUrl: string;
  readonly mcpPort: number;
}

/** Keycloak on free ports with a fresh in-memory `mcp` realm whose scopes name `mcpResource`. */
export async function startTestKeycloak(options: {
  mcpResource: string;
  introspectionSecret?: string;
  /** Keycloak's experimental flags, e.g. `resource-indicators`. */
  features?: string[];
}): Promise<RunningKeycloak> {
  const [port, managementPort] = [await freePort(), await freePort()];
  return startKeycloak({
    cacheDir: keycloakCacheDir(),
    port,
    managementPort,
    mcpResource: options.mcpResource,
    introspectionSecret: options.introspectionSecret ?? KEYCLOAK_INTROSPECTION.secret,
    database: 'mem',
    features: options.features ?? [],
    log: (line) => console.log(`[keycloak] ${line}`),
  });
}

/** A test Keycloak and the free port our MCP server will serve the realm's MCP resource on. */
export async function startKeycloakRealm(features: string[] = []): Promise<KeycloakRealm> {
  const mcpPort = await freePort();
  const mcpUrl = `http://localhost:${mcpPort}/mcp`;
  const keycloak = await startTestKeycloak({ mcpResource: mcpUrl, features });
  return { keycloak, mcpUrl, mcpPort };
}

/** Revokes a token at a Keycloak-layout revocation URL, as a public client. */
export function revokeAtKeycloakUrl(
  issuer: string,
  token: string,
  clientId: string,
  tokenTypeHint: 'access_token' | 'refresh_token' = 'access_token',
) {
  return fetch(`${issuer}/protocol/openid-connect/revoke`, {
    method: 'POST',
    body: new URLSearchParams({ token, token_type_hint: tokenTypeHint, client_id: clientId }),
  });
}

/** The MCP server against Keycloak: JWT mode, or introspection with the realm's `mcp-server` client. */
export function startMcpServer(
  realm: KeycloakRealm,
  mode: 'jwt' | 'introspection',
  env: Record<string, string> = {},
): Promise<StartedProcess> {
  const modeEnv: Record<string, string> =
    mode === 'jwt'
      ? // Keycloak's access tokens are typed `JWT`, not RFC 9068's `at+jwt`.
        { AUTH_MODE: 'jwt', AUTH_ALLOW_PLAIN_JWT: 'true' }
      : {
          AUTH_MODE: 'introspection',
          AUTH_INTROSPECTION_CLIENT_ID: KEYCLOAK_INTROSPECTION.id,
          AUTH_INTROSPECTION_CLIENT_SECRET: KEYCLOAK_INTROSPECTION.secret,
          AUTH_INTROSPECTION_CACHE_TTL: '0',
        };
  // The port was picked before Keycloak started (the realm's audience names it), so it is not
  // retried; the ready line at least tells a taken port from a ready server.
  return startMcpServerApp({
    port: realm.mcpPort,
    env: {
      MCP_RESOURCE: realm.mcpUrl,
      AUTH_ISSUER: realm.keycloak.issuer,
      LOG_FORMAT: 'json',
      ...modeEnv,
      ...env,
    },
  });
}
