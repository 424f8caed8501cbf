import { HeadlessOAuthProvider, obtainToken, type StartedProcess } from '@gatehouse/testkit';
import { UnauthorizedError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import {
  KEYCLOAK_INTROSPECTION,
  type KeycloakRealm,
  startKeycloakRealm,
  startMcpServer,
} from './keycloak-stack.js';

/**
 * Keycloak 26.7's experimental RFC 8707 and CIMD support (`--features=resource-indicators,cimd`), as it behaves
 * today: what works for MCP and what does not. These tests pin Keycloak's behaviour, so an upgrade
 * that changes it fails here and docs/keycloak.md gets updated.
 */

let realm: KeycloakRealm;
let mcp: StartedProcess;
beforeAll(async () => {
  realm = await startKeycloakRealm(['resource-indicators', 'cimd']);
  mcp = await startMcpServer(realm, 'jwt');
}, 300_000);
afterAll(async () => {
  await mcp?.stop();
  await realm?.keycloak.stop();
});

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;

describe('Keycloak with resource indicators (experimental feature)', () => {
  it('narrows aud to exactly the requested resource (a client whose resource_url matches)', async () => {
    const { accessToken } = await obtainToken(realm.keycloak.issuer, realm.mcpUrl, 'openid');
    expect(claimsOf(accessToken).aud).toBe(realm.mcpUrl);
  });

  it('refuses a resource no client declares with invalid_target at the token endpoint', async () => {
    await expect(
      obtainToken(realm.keycloak.issuer, 'http://localhost:1/unknown', 'openid'),
    ).rejects.toThrow('invalid_target');
  });

  it('works end to end with an SDK v2 client and the MCP server in JWT mode', async () => {
    const provider = new HeadlessOAuthProvider({
      issuer: realm.keycloak.issuer,
      login: { username: 'alice', password: 'alice-password' },
    });
    const connect = () => connectV2(realm.mcpUrl, provider);
    await expect(connect()).rejects.toBeInstanceOf(UnauthorizedError);
    await finishAuthV2(realm.mcpUrl, provider);
    const client = await connect();
    const sum = await client.callTool({ name: 'add_numbers', arguments: { a: 20, b: 22 } });
    expect(sum.structuredContent).toEqual({ sum: 42 });
    expect(claimsOf(String(provider.tokens()?.access_token)).aud).toBe(realm.mcpUrl);
    await client.close();
  });

  it('breaks introspection: the introspecting client is no longer in aud, so Keycloak answers active:false', async () => {
    const { accessToken } = await obtainToken(realm.keycloak.issuer, realm.mcpUrl, 'openid');
    const response = await fetch(
      `${realm.keycloak.issuer}/protocol/openid-connect/token/introspect`,
      {
        method: 'POST',
        body: new URLSearchParams({
          token: accessToken,
          client_id: KEYCLOAK_INTROSPECTION.id,
          client_secret: KEYCLOAK_INTROSPECTION.secret,
        }),
      },
    );
    expect(await response.json()).toEqual({ active: false });
  });

  it('advertises Client ID Metadata Documents with the cimd feature, yet refuses a URL client_id it cannot fetch', async () => {
    const metadata = (await (
      await fetch(`${realm.keycloak.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.client_id_metadata_document_supported).toBe(true);
    const url = new URL(`${realm.keycloak.issuer}/protocol/openid-connect/auth`);
    for (const [key, value] of Object.entries({
      response_type: 'code',
      client_id: 'https://client.invalid/metadata.json',
      redirect_uri: 'http://127.0.0.1:33418/callback',
      scope: 'openid',
      state: 'state',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(key, value);
    const page = await fetch(url, { redirect: 'manual' });
    // An error page, never a redirect to a URI nobody vouched for.
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
  });
});
