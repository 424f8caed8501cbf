import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  HeadlessOAuthProvider,
  obtainToken,
  READY_LINES,
  type StartedProcess,
  startOnFreePort,
  startProcess,
} from '@gatehouse/testkit';
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import { revokeAtKeycloakUrl, startTestKeycloak } from './keycloak-stack.js';

/**
 * Code written for Keycloak, unchanged against Gatehouse: the reference tutorial's Python resource
 * server (python/tutorial_server.py) builds Keycloak's introspection URL from AUTH_HOST, AUTH_PORT
 * and AUTH_REALM and introspects every token with client_secret_post. The same server, configured
 * only by its environment, runs against a real Keycloak and against our authorization server with
 * AUTH_COMPAT=keycloak.
 */

const repoRoot = new URL('../../../', import.meta.url).pathname;
// The realm's introspection client (the tutorial calls its own `test-client`; only the name differs).
const INTROSPECTOR = { id: 'mcp-server', secret: 'tutorial-introspection-secret' };

interface AuthorizationServer {
  readonly issuer: string;
  readonly port: number;
  /** A valid token of this server whose audience is not the tutorial server. */
  foreignToken(): Promise<string>;
  stop(): Promise<void>;
}

function python(): string {
  const path = process.env.GATEHOUSE_PYTHON;
  if (!path) throw new Error('the Python MCP SDK is not installed: run the tests with `npm test`');
  return path;
}

async function startKeycloakServer(resource: string): Promise<AuthorizationServer> {
  const keycloak = await startTestKeycloak({
    mcpResource: resource,
    introspectionSecret: INTROSPECTOR.secret,
  });
  return {
    issuer: keycloak.issuer,
    port: Number(new URL(keycloak.baseUrl).port),
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

async function startGatehouse(resource: string): Promise<AuthorizationServer> {
  const other = `http://localhost:${await freePort()}/other`;
  return startOnFreePort(async (port) => {
    const origin = `http://localhost:${port}`;
    const server = await startProcess('node', ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(repoRoot, 'apps', 'auth-server'),
      env: {
        AUTH_ISSUER: origin,
        AUTH_COMPAT: 'keycloak',
        AUTH_REALM: 'mcp',
        AUTH_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-tutorial-')), 'auth.db')}`,
        AUTH_USERS: 'alice:alice-password',
        // Default token settings (JWT access tokens), as the tutorial leaves Keycloak's.
        AUTH_RESOURCES: JSON.stringify([
          { resource, scopes: ['mcp:tools'], defaultScopes: ['mcp:tools'] },
          { resource: other, scopes: ['mcp:tools'] },
        ]),
        // The tutorial's client as it creates it: "enable client authentication, save".
        AUTH_CLIENTS: JSON.stringify([
          { client_id: INTROSPECTOR.id, client_secret: INTROSPECTOR.secret },
        ]),
        LOG_FORMAT: 'json',
      },
      readyUrl: `${origin}/readyz`,
      readyLine: READY_LINES.authServer,
    });
    const issuer = `${origin}/realms/mcp`;
    return {
      issuer,
      port,
      foreignToken: async () => (await obtainToken(issuer, other, 'mcp:tools')).accessToken,
      stop: async () => {
        await server.stop();
      },
    };
  });
}

async function startTutorialServer(port: number, authPort: number): Promise<StartedProcess> {
  return startProcess(python(), [join(repoRoot, 'tests', 'e2e', 'python', 'tutorial_server.py')], {
    env: {
      HOST: 'localhost',
      PORT: String(port),
      AUTH_HOST: 'localhost',
      AUTH_PORT: String(authPort),
      AUTH_REALM: 'mcp',
      OAUTH_CLIENT_ID: INTROSPECTOR.id,
      OAUTH_CLIENT_SECRET: INTROSPECTOR.secret,
      MCP_SCOPE: 'mcp:tools',
    },
    readyUrl: `http://localhost:${port}/.well-known/oauth-protected-resource`,
    // uvicorn's own line: an answer alone may come from another server on the port.
    readyLine: 'Uvicorn running on',
    timeoutMs: 30_000,
  });
}

for (const [name, start] of [
  ['a real Keycloak', startKeycloakServer],
  ['Gatehouse with AUTH_COMPAT=keycloak', startGatehouse],
] as const) {
  describe(`the tutorial's introspecting Python server against ${name}`, () => {
    let as: AuthorizationServer;
    let tutorial: StartedProcess;
    let resource: string;
    beforeAll(async () => {
      const port = await freePort();
      resource = `http://localhost:${port}`;
      as = await start(resource);
      tutorial = await startTutorialServer(port, as.port);
    }, 300_000);
    afterAll(async () => {
      if (process.env.DEBUG_TUTORIAL) console.log(tutorial?.output());
      await tutorial?.stop();
      await as?.stop();
    });

    const connect = async (token: string) => {
      const client = new Client({ name: 'tutorial-e2e', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${resource}/`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      return client;
    };

    it('answers 401 with a challenge when no token is sent', async () => {
      const response = await fetch(`${resource}/`, {
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
      const { accessToken } = await obtainToken(as.issuer, resource, 'openid mcp:tools');
      const client = await connect(accessToken);
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['add_numbers', 'multiply_numbers']);
      const sum = await client.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
      expect(sum.structuredContent).toMatchObject({ operation: 'addition', result: 5 });
      await client.close();
    });

    it('refuses a token of the same authorization server issued for another audience', async () => {
      await expect(connect(await as.foreignToken())).rejects.toThrow();
    });

    it('refuses a token right after it is revoked at the Keycloak revocation URL', async () => {
      const token = await obtainToken(as.issuer, resource, 'openid mcp:tools');
      const client = await connect(token.accessToken);
      await client.close();
      const revoked = await revokeAtKeycloakUrl(as.issuer, token.accessToken, token.clientId);
      expect(revoked.status).toBe(200);
      await expect(connect(token.accessToken)).rejects.toThrow();
    });
  });
}

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
      as = await startGatehouse(mcpUrl);
      try {
        mcp = await startProcess('node', ['--import', 'tsx', 'src/main.ts'], {
          cwd: join(repoRoot, 'apps', 'mcp-server'),
          env: { ...profile, AUTH_ISSUER: as.issuer, MCP_RESOURCE: mcpUrl, LOG_FORMAT: 'json' },
          readyUrl: `http://localhost:${port}/healthz`,
          readyLine: READY_LINES.mcpServer,
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
