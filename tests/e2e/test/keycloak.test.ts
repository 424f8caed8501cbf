import { HeadlessOAuthProvider, obtainToken, type StartedProcess } from '@gatehouse/testkit';
import { type Client, UnauthorizedError } from '@modelcontextprotocol/client';
import { UnauthorizedError as V1UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import {
  KEYCLOAK_INTROSPECTION,
  type KeycloakRealm,
  revokeAtKeycloakUrl,
  startKeycloakRealm,
  startMcpServer,
} from './keycloak-stack.js';

/**
 * The swap, proven: a real Keycloak 26 with the realm from infra/keycloak, our MCP server pointed
 * at it by environment variables only, real MCP SDK clients registering by DCR and signing in
 * through Keycloak's own login and consent pages. Both validation modes.
 */

let realm: KeycloakRealm;
beforeAll(async () => {
  realm = await startKeycloakRealm();
}, 300_000);
afterAll(() => realm?.keycloak.stop());

const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
const mcpHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
const callMcp = (token: string, body = listTools) =>
  fetch(realm.mcpUrl, {
    method: 'POST',
    headers: { ...mcpHeaders, authorization: `Bearer ${token}` },
    body,
  });
const callTool = (name: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });

function login(username: 'alice' | 'bob') {
  return new HeadlessOAuthProvider({
    issuer: realm.keycloak.issuer,
    login: { username, password: `${username}-password` },
  });
}

async function connectAuthorized(provider: HeadlessOAuthProvider): Promise<Client> {
  try {
    return await connectV2(realm.mcpUrl, provider);
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.callbackParams) throw error;
    await finishAuthV2(realm.mcpUrl, provider);
    return connectV2(realm.mcpUrl, provider);
  }
}

for (const mode of ['jwt', 'introspection'] as const) {
  describe(`MCP server against Keycloak (${mode} mode)`, () => {
    let mcp: StartedProcess;
    beforeAll(async () => {
      mcp = await startMcpServer(realm, mode);
    });
    afterAll(() => mcp?.stop());

    it('an SDK v2 client registers by DCR at Keycloak, signs in on its login page, and calls the tools', async () => {
      const provider = login('alice');
      const client = await connectAuthorized(provider);
      expect(provider.authorizationUrls).toHaveLength(1);
      const authorization = provider.authorizationUrls[0] as URL;
      expect(authorization.origin + authorization.pathname).toBe(
        `${realm.keycloak.issuer}/protocol/openid-connect/auth`,
      );
      expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
      const sum = await client.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
      expect(sum.structuredContent).toEqual({ sum: 5 });
      const me = await client.callTool({ name: 'whoami', arguments: {} });
      const who = me.structuredContent as { subject: string; clientId: string; scopes: string[] };
      expect(who.subject).toMatch(/^[0-9a-f-]{36}$/);
      expect(who.clientId).toBe(provider.clientInformation()?.client_id);
      expect(who.scopes).toContain('mcp:tools');
      await client.close();
    });

    it('an SDK v1 client (what most deployed tools embed) does the same', async () => {
      const provider = login('bob');
      const transport = () =>
        new V1Transport(new URL(realm.mcpUrl), { authProvider: provider as never });
      const connect = async () => {
        const client = new V1Client({ name: 'gatehouse-e2e-v1', version: '1.0.0' });
        await client.connect(transport());
        return client;
      };
      await expect(connect()).rejects.toBeInstanceOf(V1UnauthorizedError);
      await transport().finishAuth(provider.code);
      const client = await connect();
      const product = await client.callTool({
        name: 'multiply_numbers',
        arguments: { x: 6, y: 7 },
      });
      expect(product.structuredContent).toEqual({ product: 42 });
      await client.close();
    });

    it('steps up to mcp:admin for alice; bob, without the mcp-admin role, stays refused', async () => {
      for (const [user, allowed] of [
        ['alice', true],
        ['bob', false],
      ] as const) {
        const token = await obtainToken(
          realm.keycloak.issuer,
          realm.mcpUrl,
          'openid mcp:tools mcp:admin',
          { username: user, password: `${user}-password` },
        );
        const response = await callMcp(token.accessToken, callTool('server_status'));
        expect(response.status, user).toBe(allowed ? 200 : 403);
        if (!allowed)
          expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      }
    });

    it('refuses a Keycloak token of the same realm that lacks the MCP audience', async () => {
      // Registering with `scope` makes Keycloak 26.7 drop the realm default scopes (mcp:tools and
      // its audience mapper): a valid token of this realm, just not for this server.
      const token = await obtainToken(
        realm.keycloak.issuer,
        realm.mcpUrl,
        'openid profile',
        {
          username: 'alice',
          password: 'alice-password',
        },
        { clientMetadata: { scope: 'openid profile' } },
      );
      const claims = JSON.parse(
        Buffer.from(token.accessToken.split('.')[1] ?? '', 'base64url').toString(),
      ) as { aud?: unknown; iss: string };
      expect(claims.iss).toBe(realm.keycloak.issuer);
      expect([claims.aud].flat()).not.toContain(realm.mcpUrl);
      const response = await callMcp(token.accessToken);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });

    it('refuses a tampered Keycloak token and a token of another realm', async () => {
      const { accessToken } = await obtainToken(realm.keycloak.issuer, realm.mcpUrl, 'openid');
      const [header, payload, signature] = accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
      const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: `${claims.scope} mcp:admin` })).toString('base64url')}.${signature}`;
      expect((await callMcp(forged)).status).toBe(401);

      // The master realm's admin token: same Keycloak, same keys service, another issuer.
      const admin = await fetch(
        `${realm.keycloak.baseUrl}/realms/master/protocol/openid-connect/token`,
        {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'password',
            client_id: 'admin-cli',
            username: 'admin',
            password: 'admin',
          }),
        },
      );
      const { access_token: masterToken } = (await admin.json()) as { access_token: string };
      expect(masterToken).toBeTruthy();
      expect((await callMcp(masterToken)).status).toBe(401);
    });

    it('refresh rotates at Keycloak; the new access token works and the old refresh token is dead', async () => {
      const token = await obtainToken(realm.keycloak.issuer, realm.mcpUrl, 'openid');
      const refresh = (refreshToken: string) =>
        fetch(`${realm.keycloak.issuer}/protocol/openid-connect/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            client_id: token.clientId,
            refresh_token: refreshToken,
          }),
        });
      const first = await refresh(token.refreshToken);
      expect(first.status).toBe(200);
      const rotated = (await first.json()) as { access_token: string };
      expect((await callMcp(rotated.access_token)).status).toBe(200);
      const reuse = await refresh(token.refreshToken);
      expect(reuse.status).toBe(400);
      expect(((await reuse.json()) as { error: string }).error).toBe('invalid_grant');
    });

    if (mode === 'introspection') {
      it('sees a revocation at Keycloak on the next request (no cache)', async () => {
        const token = await obtainToken(realm.keycloak.issuer, realm.mcpUrl, 'openid');
        expect((await callMcp(token.accessToken)).status).toBe(200);
        const revoked = await revokeAtKeycloakUrl(
          realm.keycloak.issuer,
          token.accessToken,
          token.clientId,
        );
        expect(revoked.status).toBe(200);
        expect((await callMcp(token.accessToken)).status).toBe(401);
      });
    }
  });
}

describe('Keycloak realm rules for MCP', () => {
  const registrationUrl = () => `${realm.keycloak.issuer}/clients-registrations/openid-connect`;
  const register = (metadata: Record<string, unknown>) =>
    fetch(registrationUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(metadata),
    });

  it('allows anonymous DCR from loopback for loopback redirect URIs only', async () => {
    const ok = await register({
      client_name: 'loopback client',
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      token_endpoint_auth_method: 'none',
    });
    expect(ok.status).toBe(201);
    const foreign = await register({
      client_name: 'foreign redirect',
      redirect_uris: ['https://attacker.example/callback'],
      token_endpoint_auth_method: 'none',
    });
    expect(foreign.status).toBe(403);
  });

  it('enforces PKCE S256 for dynamically registered public clients', async () => {
    const response = await register({
      client_name: 'pkce check',
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      token_endpoint_auth_method: 'none',
    });
    const { client_id: clientId } = (await response.json()) as { client_id: string };
    const authorize = async (extra: Record<string, string>) => {
      const url = new URL(`${realm.keycloak.issuer}/protocol/openid-connect/auth`);
      for (const [key, value] of Object.entries({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: 'http://127.0.0.1:33418/callback',
        scope: 'openid',
        state: 'xyz',
        ...extra,
      }))
        url.searchParams.set(key, value);
      const page = await fetch(url, { redirect: 'manual' });
      return new URL(page.headers.get('location') ?? 'http://none/').searchParams.get('error');
    };
    expect(await authorize({})).toBe('invalid_request');
    expect(
      await authorize({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }),
    ).toBe('invalid_request');
    // Control: with S256 Keycloak shows its login page instead of an error redirect.
    expect(
      await authorize({ code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' }),
    ).toBeNull();
  });

  it('answers introspection only to the realm introspection client with the right secret', async () => {
    const { accessToken } = await obtainToken(realm.keycloak.issuer, realm.mcpUrl, 'openid');
    const introspect = (secret: string) =>
      fetch(`${realm.keycloak.issuer}/protocol/openid-connect/token/introspect`, {
        method: 'POST',
        body: new URLSearchParams({
          token: accessToken,
          client_id: KEYCLOAK_INTROSPECTION.id,
          client_secret: secret,
        }),
      });
    const good = (await (await introspect(KEYCLOAK_INTROSPECTION.secret)).json()) as Record<
      string,
      unknown
    >;
    expect(good.active).toBe(true);
    expect([good.aud].flat()).toContain(realm.mcpUrl);
    expect((await introspect('wrong-secret')).status).toBe(401);
  });
});
