import { join } from 'node:path';
import {
  HeadlessOAuthProvider,
  obtainToken,
  type StartedProcess,
  startOnFreePorts,
  startProcess,
} from '@gatehouse/testkit';
import { UnauthorizedError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import { startKeycloakRealm } from './keycloak-stack.js';
import { ALICE, startAuthServer } from './stack.js';

/**
 * The examples under examples/, each a small MCP server a user copies to protect their own with
 * @gatehouse/auth-core, run as written (`tsx src/server.ts`, configured by AUTH_ISSUER and
 * MCP_RESOURCE) against the real authorization server: an SDK v2 client discovers, registers,
 * signs in and calls a tool; a tool that needs mcp:admin makes it step up; a token of the same
 * authorization server for another resource is refused.
 */

const repoRoot = new URL('../../../', import.meta.url).pathname;
const EXAMPLES = ['express', 'fastify', 'hono', 'node-http', 'fetch'] as const;

for (const example of EXAMPLES) {
  describe(`examples/${example}`, () => {
    let authServer: StartedProcess;
    let server: StartedProcess;
    let issuer: string;
    let mcpUrl: string;
    let other: string;
    beforeAll(async () => {
      await startOnFreePorts(3, async ([authPort, mcpPort, otherPort]) => {
        issuer = `http://localhost:${authPort}`;
        mcpUrl = `http://localhost:${mcpPort}/mcp`;
        other = `http://localhost:${otherPort}/other`;
        authServer = await startAuthServer(authPort, [
          { resource: mcpUrl, scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'] },
          { resource: other, scopes: ['mcp:tools'] },
        ]);
        try {
          server = await startProcess('node', ['--import', 'tsx', 'src/server.ts'], {
            cwd: join(repoRoot, 'examples', example),
            env: { AUTH_ISSUER: issuer, MCP_RESOURCE: mcpUrl },
            readyUrl: `http://localhost:${mcpPort}/.well-known/oauth-protected-resource/mcp`,
            readyLine: `example-${example}: MCP server at`,
          });
        } catch (error) {
          await authServer.stop();
          throw error;
        }
      });
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
      await authServer?.stop();
    });

    it('an SDK v2 client discovers, registers, signs in, calls a tool, and steps up for mcp:admin', async () => {
      const provider = new HeadlessOAuthProvider({ issuer, login: ALICE });
      await expect(connectV2(mcpUrl, provider)).rejects.toBeInstanceOf(UnauthorizedError);
      expect((provider.authorizationUrls[0] as URL).searchParams.get('resource')).toBe(mcpUrl);
      await finishAuthV2(mcpUrl, provider);
      const client = await connectV2(mcpUrl, provider);
      const { tools } = await client.listTools();
      expect(
        Object.fromEntries(tools.map((tool) => [tool.name, tool._meta?.['gatehouse/scopes']])),
      ).toEqual({
        add: ['mcp:tools'],
        whoami: ['mcp:tools'],
        admin_status: ['mcp:tools', 'mcp:admin'],
      });
      expect((await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).content).toEqual([
        { type: 'text', text: '5' },
      ]);
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      expect((who.content as Array<{ text: string }>)[0]?.text).toMatch(/^alice via /);
      // mcp:admin: 403 insufficient_scope, and the SDK sends the user back to authorize it.
      await expect(client.callTool({ name: 'admin_status', arguments: {} })).rejects.toThrow();
      const stepUp = provider.authorizationUrls.at(-1) as URL;
      expect(stepUp.searchParams.get('scope')?.split(' ')).toEqual(
        expect.arrayContaining(['mcp:tools', 'mcp:admin']),
      );
      await client.close();
      await finishAuthV2(mcpUrl, provider);
      const admin = await connectV2(mcpUrl, provider);
      const status = await admin.callTool({ name: 'admin_status', arguments: {} });
      expect((status.content as Array<{ text: string }>)[0]?.text).toMatch(/^up \d+ s$/);
      await admin.close();
    });

    it('refuses a token of the same authorization server issued for another resource', async () => {
      const { accessToken } = await obtainToken(issuer, other, 'mcp:tools', ALICE);
      const response = await fetch(mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });
  });
}

describe('examples/express against a real Keycloak, by environment alone', () => {
  let realm: Awaited<ReturnType<typeof startKeycloakRealm>>;
  let server: StartedProcess;
  beforeAll(async () => {
    realm = await startKeycloakRealm();
    server = await startProcess('node', ['--import', 'tsx', 'src/server.ts'], {
      cwd: join(repoRoot, 'examples', 'express'),
      env: {
        AUTH_ISSUER: realm.keycloak.issuer,
        AUTH_ALLOW_PLAIN_JWT: 'true',
        MCP_RESOURCE: realm.mcpUrl,
      },
      readyUrl: `http://localhost:${realm.mcpPort}/.well-known/oauth-protected-resource/mcp`,
      readyLine: 'example-express: MCP server at',
    });
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    await realm?.keycloak.stop();
  });

  it('an SDK v2 client registers at Keycloak, signs in on its page, calls a tool, and is sent to step up for mcp:admin', async () => {
    const provider = new HeadlessOAuthProvider({ issuer: realm.keycloak.issuer, login: ALICE });
    await expect(connectV2(realm.mcpUrl, provider)).rejects.toBeInstanceOf(UnauthorizedError);
    const authorization = provider.authorizationUrls[0] as URL;
    expect(authorization.origin + authorization.pathname).toBe(
      `${realm.keycloak.issuer}/protocol/openid-connect/auth`,
    );
    await finishAuthV2(realm.mcpUrl, provider);
    const client = await connectV2(realm.mcpUrl, provider);
    expect((await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).content).toEqual([
      { type: 'text', text: '5' },
    ]);
    const who = await client.callTool({ name: 'whoami', arguments: {} });
    expect((who.content as Array<{ text: string }>)[0]?.text).toMatch(/ via /);
    // The example's 403 sends the client back to Keycloak for mcp:admin. Keycloak answers that
    // authorization request with "Invalid scopes: mcp:tools mcp:admin" for the client the SDK
    // registered by DCR (keycloak.test.ts steps up with obtainToken's own registration), so the
    // call stays refused: the step-up request is the example's part, the refusal Keycloak's.
    await expect(client.callTool({ name: 'admin_status', arguments: {} })).rejects.toThrow();
    const stepUp = provider.authorizationUrls.at(-1) as URL;
    expect(stepUp.searchParams.get('scope')?.split(' ')).toContain('mcp:admin');
    await client.close();
  });
});
