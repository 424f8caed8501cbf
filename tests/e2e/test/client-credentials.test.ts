import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

/**
 * A machine-to-machine job (the MCP client-credentials extension): no browser and no user anywhere.
 * It asks the authorization server for a token for the MCP server with its own secret, and calls
 * tools with it; the MCP server sees the client and no user.
 */

const JOB = { client_id: 'nightly-report', client_secret: 'nightly-report-secret-0123' };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    authEnv: { AUTH_CLIENTS: JSON.stringify([{ ...JOB, scope: 'mcp:tools' }]) },
  });
});
afterAll(() => stack?.stop());

describe('client credentials (machine to machine)', () => {
  it('gets a token with its secret and calls tools as a client without a user', async () => {
    const metadata = (await (
      await fetch(`${stack.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as { token_endpoint: string; grant_types_supported: string[] };
    expect(metadata.grant_types_supported).toContain('client_credentials');
    const answer = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${JOB.client_id}:${JOB.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        resource: stack.mcpUrl,
        scope: 'mcp:tools',
      }).toString(),
    });
    expect(answer.status).toBe(200);
    const { access_token: token } = (await answer.json()) as { access_token: string };

    const client = new Client({ name: 'nightly-report', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const me = await client.callTool({ name: 'whoami', arguments: {} });
    expect(me.structuredContent).toMatchObject({
      user: null,
      clientId: JOB.client_id,
      scopes: ['mcp:tools'],
    });
    const sum = await client.callTool({ name: 'add_numbers', arguments: { a: 20, b: 22 } });
    expect(sum.structuredContent).toEqual({ sum: 42 });
    // Its scope is mcp:tools only: the admin tool stays out of reach.
    await expect(client.callTool({ name: 'server_status', arguments: {} })).rejects.toThrow(
      /Insufficient scope/,
    );
    await client.close();
  });
});
