import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  HeadlessOAuthProvider,
  obtainToken,
  type StartedProcess,
  startMcpServerApp,
  startOnFreePort,
} from '@gatehouse/testkit';
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import { revokeAtKeycloakUrl, startTestKeycloak } from './keycloak-stack.js';
import {
  type AuthorizationServer,
  INTROSPECTOR,
  startGatehouseAsKeycloak,
  startTutorialServer,
  TUTORIAL_SERVERS,
  type TutorialServer,
} from './tutorial-stack.js';

/**
 * Code written for Keycloak, unchanged against Gatehouse: the reference tutorial's Python resource
 * server builds Keycloak's introspection URL from AUTH_HOST, AUTH_PORT and AUTH_REALM and
 * introspects every token with client_secret_post. It runs twice: exactly as published, on the
 * `mcp` 1.x SDK it was written for (python-mcp1/, FastMCP), and ported to the 2.x SDK
 * (python/tutorial_server.py, MCPServer). Each, configured only by its environment, runs against a
 * real Keycloak and against our authorization server with AUTH_COMPAT=keycloak, default (JWT)
 * access tokens and the tutorial's minimal client.
 */

const repoRoot = new URL('../../../', import.meta.url).pathname;

async function startKeycloakServer(resource: string): Promise<AuthorizationServer> {
  const keycloak = await startTestKeycloak({
    mcpResource: resource,
    introspectionSecret: INTROSPECTOR.secret,
  });
  return {
    issuer: keycloak.issuer,
    host: new URL(keycloak.issuer).hostname,
    port: Number(new URL(keycloak.issuer).port),
    // Registering with `scope` drops the realm's default scopes and with them the MCP audience.
    foreignToken: async () =>
      (
        await obtainToken(keycloak.issuer, resource, 'openid profile', undefined, {
          clientMetadata: { scope: 'openid profile' },
        })
      ).accessToken,
    stop: () => keycloak.stop(),
  };
}

const [PUBLISHED, PORTED] = TUTORIAL_SERVERS as [TutorialServer, TutorialServer];
const KEYCLOAK = ['a real Keycloak', startKeycloakServer] as const;
const GATEHOUSE = ['Gatehouse with AUTH_COMPAT=keycloak', startGatehouseAsKeycloak] as const;

/** The authorization server and the tutorial server on a free port that names the resource. */
function startPair(
  start: (resource: string) => Promise<AuthorizationServer>,
  server: TutorialServer,
) {
  const pair: { as?: AuthorizationServer; tutorial?: StartedProcess; resource: string } = {
    resource: '',
  };
  beforeAll(async () => {
    const port = await freePort();
    pair.resource = `http://localhost:${port}`;
    pair.as = await start(pair.resource);
    pair.tutorial = await startTutorialServer(server, port, pair.as);
  }, 300_000);
  afterAll(async () => {
    if (process.env.DEBUG_TUTORIAL) console.log(pair.tutorial?.output());
    await pair.tutorial?.stop();
    await pair.as?.stop();
  });
  return pair as { readonly as: AuthorizationServer; readonly resource: string };
}

/** An SDK client that sends `token` as a bearer token to the tutorial server. */
async function connectWithToken(resource: string, token: string): Promise<Client> {
  const client = new Client({ name: 'tutorial-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${resource}/`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

// Every pairing but the published code against a real Keycloak, which has its own suite below.
for (const [[name, start], server] of [
  [GATEHOUSE, PUBLISHED],
  [GATEHOUSE, PORTED],
  [KEYCLOAK, PORTED],
] as const)
  describe(`the tutorial's introspecting Python server ${server.name} against ${name}`, () => {
    const pair = startPair(start, server);
    const connect = (token: string) => connectWithToken(pair.resource, token);

    it('answers 401 with a challenge when no token is sent', async () => {
      const response = await fetch(`${pair.resource}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('resource_metadata=');
    });

    it('accepts a token from DCR + login + consent, introspected at the Keycloak URL, and runs the tools', async () => {
      const { accessToken } = await obtainToken(pair.as.issuer, pair.resource, 'openid mcp:tools');
      const client = await connect(accessToken);
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['add_numbers', 'multiply_numbers']);
      const sum = await client.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
      expect(sum.structuredContent).toMatchObject({ operation: 'addition', result: 5 });
      await client.close();
    });

    it('refuses a token of the same authorization server issued for another audience', async () => {
      await expect(connect(await pair.as.foreignToken())).rejects.toThrow();
    });

    it('refuses a token right after it is revoked at the Keycloak revocation URL', async () => {
      const token = await obtainToken(pair.as.issuer, pair.resource, 'openid mcp:tools');
      const client = await connect(token.accessToken);
      await client.close();
      const revoked = await revokeAtKeycloakUrl(pair.as.issuer, token.accessToken, token.clientId);
      expect(revoked.status).toBe(200);
      await expect(connect(token.accessToken)).rejects.toThrow();
    });

    it("refuses an unexpired access token right after its grant is revoked (the refresh token's revocation)", async () => {
      const token = await obtainToken(pair.as.issuer, pair.resource, 'openid mcp:tools');
      await (await connect(token.accessToken)).close();
      const revoked = await revokeAtKeycloakUrl(
        pair.as.issuer,
        token.refreshToken,
        token.clientId,
        'refresh_token',
      );
      expect(revoked.status).toBe(200);
      await expect(connect(token.accessToken)).rejects.toThrow();
    });

    it('an SDK v2 client discovers the authorization server from the tutorial server and calls a tool', async () => {
      const provider = new HeadlessOAuthProvider({
        issuer: pair.as.issuer,
        login: { username: 'alice', password: 'alice-password' },
      });
      const url = `${pair.resource}/`;
      await expect(connectV2(url, provider)).rejects.toBeInstanceOf(UnauthorizedError);
      expect((provider.authorizationUrls[0] as URL).searchParams.get('resource')).toBe(url);
      await finishAuthV2(url, provider);
      const client = await connectV2(url, provider);
      const product = await client.callTool({
        name: 'multiply_numbers',
        arguments: { x: 6, y: 7 },
      });
      expect(product.structuredContent).toMatchObject({
        operation: 'multiplication',
        result: 42,
      });
      await client.close();
    });
  });

// Keycloak 26.4.12+ answers `active: false` unless the introspecting client is in the token's `aud`
// (docs/keycloak.md), so a realm where introspection works issues tokens whose `aud` is a list. The
// published verifier passes that list to `AccessToken(resource=...)`, a `str` field in mcp 1.x: the
// validation error is swallowed by its `except Exception` and every token is refused. Gatehouse lets
// configured clients introspect any token, so `aud` stays the resource alone and the same code works.
describe(`the tutorial's introspecting Python server ${PUBLISHED.name} against a real Keycloak 26.4.12+`, () => {
  const pair = startPair(KEYCLOAK[1], PUBLISHED);

  it('refuses every token: the introspection answer is active, but its aud is a list the published code cannot hold', async () => {
    const { accessToken } = await obtainToken(pair.as.issuer, pair.resource, 'openid mcp:tools');
    const introspection = await fetch(
      `${pair.as.issuer}/protocol/openid-connect/token/introspect`,
      {
        method: 'POST',
        body: new URLSearchParams({
          token: accessToken,
          client_id: INTROSPECTOR.id,
          client_secret: INTROSPECTOR.secret,
        }),
      },
    );
    const answer = (await introspection.json()) as { active: boolean; aud: unknown };
    expect(answer.active).toBe(true);
    expect(answer.aud).toEqual(expect.arrayContaining([pair.resource, INTROSPECTOR.id]));
    await expect(connectWithToken(pair.resource, accessToken)).rejects.toThrow(/invalid_token/);
  });
});

describe('our MCP server with the Keycloak profile (.env.keycloak) against Gatehouse with AUTH_COMPAT=keycloak', () => {
  let as: AuthorizationServer;
  let mcp: StartedProcess;
  let mcpUrl: string;
  beforeAll(async () => {
    // The profile's settings as a user would leave them, pointed at our server instead of Keycloak.
    const profile = Object.fromEntries(
      readFileSync(join(repoRoot, '.env.keycloak'), 'utf8')
        .split('\n')
        .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => [match[1] as string, match[2] as string]),
    );
    expect(new URL(profile.AUTH_ISSUER ?? '').pathname).toBe('/realms/mcp');
    // Both again on a fresh port when the MCP server's was taken: the resource names it.
    await startOnFreePort(async (port) => {
      mcpUrl = `http://localhost:${port}/mcp`;
      as = await startGatehouseAsKeycloak(mcpUrl);
      try {
        mcp = await startMcpServerApp({
          port,
          env: { ...profile, AUTH_ISSUER: as.issuer, MCP_RESOURCE: mcpUrl, LOG_FORMAT: 'json' },
        });
      } catch (error) {
        await as.stop();
        throw error;
      }
    });
  }, 120_000);
  afterAll(async () => {
    await mcp?.stop();
    await as?.stop();
  });

  it('an SDK v2 client discovers the realm issuer, registers, signs in and calls the tools', async () => {
    const provider = new HeadlessOAuthProvider({
      issuer: as.issuer,
      login: { username: 'alice', password: 'alice-password' },
    });
    await expect(connectV2(mcpUrl, provider)).rejects.toBeInstanceOf(UnauthorizedError);
    const authorization = provider.authorizationUrls[0] as URL;
    expect(authorization.href.startsWith(`${as.issuer}/protocol/openid-connect/auth?`)).toBe(true);
    await finishAuthV2(mcpUrl, provider);
    const client = await connectV2(mcpUrl, provider);
    const product = await client.callTool({ name: 'multiply_numbers', arguments: { x: 6, y: 7 } });
    expect(product.structuredContent).toEqual({ product: 42 });
    await client.close();
  });
});
