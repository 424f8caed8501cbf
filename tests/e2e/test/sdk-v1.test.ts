import { HeadlessOAuthProvider } from '@gatehouse/testkit';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * The v1 SDK client (`@modelcontextprotocol/sdk`, what most deployed tools embed), through the
 * MCP server's 2025-era stateless fallback. v1 checks neither `state` nor `iss`: the headless
 * provider does.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

async function connect(provider: HeadlessOAuthProvider): Promise<Client> {
  const client = new Client({ name: 'gatehouse-e2e-v1', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { authProvider: provider as never }),
  );
  return client;
}

async function finishAuth(provider: HeadlessOAuthProvider): Promise<void> {
  await new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {
    authProvider: provider as never,
  }).finishAuth(provider.code);
}

describe('MCP SDK v1 client', () => {
  it('authorizes and calls the tools; the admin tool needs an explicit re-authorization with both scopes', async () => {
    const provider = new HeadlessOAuthProvider({
      issuer: stack.issuer,
      login: ALICE,
      clientMetadata: { client_name: 'v1 client' },
    });
    await expect(connect(provider)).rejects.toBeInstanceOf(UnauthorizedError);
    await finishAuth(provider);
    let client = await connect(provider);

    expect(
      (await client.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } })).structuredContent,
    ).toEqual({ sum: 5 });
    expect(
      (await client.callTool({ name: 'multiply_numbers', arguments: { x: 3, y: 4 } }))
        .structuredContent,
    ).toEqual({ product: 12 });
    expect(
      (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent,
    ).toMatchObject({ subject: 'alice' });

    // v1 answers a 403 by refreshing with the same grant, which cannot widen it, then gives up with
    // the 403 (a known v1 gap: no union of scopes, no forced re-authorization).
    await expect(client.callTool({ name: 'server_status', arguments: {} })).rejects.toThrow(/403/);
    // A v1 host re-authorizes explicitly with the union of scopes; that succeeds.
    provider.invalidateCredentials('tokens');
    const outcome = await auth(provider as never, {
      serverUrl: new URL(stack.mcpUrl),
      scope: 'mcp:tools mcp:admin',
    });
    expect(outcome).toBe('REDIRECT');
    expect(provider.authorizationUrls.at(-1)?.searchParams.get('scope')).toBe(
      'mcp:tools mcp:admin',
    );
    await finishAuth(provider);
    await client.close();
    client = await connect(provider);
    const status = await client.callTool({ name: 'server_status', arguments: {} });
    expect(status.structuredContent).toMatchObject({ node: expect.stringMatching(/^v\d+/) });
    await client.close();
  });
});
