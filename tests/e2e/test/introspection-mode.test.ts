import { HeadlessOAuthProvider, introspectionClient } from '@gatehouse/testkit';
import { UnauthorizedError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * The MCP server in introspection mode (RFC 7662) by configuration alone: the authorization server
 * issues opaque access tokens for this resource and knows the MCP server as a confidential client;
 * the MCP server checks every token at the introspection endpoint. Revocation then bites at once.
 */

const INTROSPECTOR = { id: 'mcp-server', secret: 'mcp-server-introspection-secret' };
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    opaqueTokens: true,
    authEnv: {
      AUTH_CLIENTS: JSON.stringify([introspectionClient(INTROSPECTOR)]),
    },
    mcpEnv: {
      AUTH_MODE: 'introspection',
      AUTH_INTROSPECTION_CLIENT_ID: INTROSPECTOR.id,
      AUTH_INTROSPECTION_CLIENT_SECRET: INTROSPECTOR.secret,
      // Ask the authorization server on every request, so revocation is visible at once.
      AUTH_INTROSPECTION_CACHE_TTL: '0',
    },
  });
});
afterAll(() => stack?.stop());

describe('MCP server in introspection mode', () => {
  it('accepts opaque tokens checked by introspection, and refuses one right after it is revoked', async () => {
    const provider = new HeadlessOAuthProvider({
      issuer: stack.issuer,
      login: ALICE,
      clientMetadata: { client_name: 'Introspection e2e' },
    });
    const connect = () => connectV2(stack.mcpUrl, provider, 'gatehouse-e2e-introspection');
    await expect(connect()).rejects.toBeInstanceOf(UnauthorizedError);
    await finishAuthV2(stack.mcpUrl, provider);
    const client = await connect();
    const accessToken = String(provider.tokens()?.access_token);
    expect(accessToken.split('.')).toHaveLength(1); // opaque, not a JWT
    expect(
      (await client.callTool({ name: 'add_numbers', arguments: { a: 20, b: 22 } }))
        .structuredContent,
    ).toEqual({ sum: 42 });
    await client.close();

    await fetch(`${stack.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: accessToken,
        client_id: String(provider.clientInformation()?.client_id),
      }).toString(),
    });
    const response = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  }, 60_000);
});
