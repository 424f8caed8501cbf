import { HeadlessOAuthProvider } from '@gatehouse/testkit';
import { type Client, UnauthorizedError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import { ALICE, type Stack, startStack } from './stack.js';

/** The MCP TypeScript SDK v2 client, end to end through OAuth against our two servers. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ authEnv: { AUTH_ACCESS_TOKEN_TTL: '2' } });
});
afterAll(() => stack?.stop());

async function connect(provider: HeadlessOAuthProvider): Promise<{ client: Client }> {
  return { client: await connectV2(stack.mcpUrl, provider) };
}

/** Connects, completing an authorization (login + consent in the headless user agent) when asked. */
async function connectAuthorized(provider: HeadlessOAuthProvider) {
  try {
    return await connect(provider);
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.callbackParams) throw error;
    await finishAuthV2(stack.mcpUrl, provider);
    return connect(provider);
  }
}

describe('MCP SDK v2 client', () => {
  it('authorizes (401 -> metadata -> discovery -> DCR -> login -> consent -> token) and calls the tools', async () => {
    const provider = new HeadlessOAuthProvider({
      issuer: stack.issuer,
      login: ALICE,
    });
    const { client } = await connectAuthorized(provider);
    expect(provider.authorizationUrls).toHaveLength(1);
    const authorization = provider.authorizationUrls[0] as URL;
    expect(authorization.searchParams.get('resource')).toBe(stack.mcpUrl);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'add_numbers',
      'multiply_numbers',
      'server_status',
      'whoami',
    ]);
    const sum = await client.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
    expect(sum.structuredContent).toEqual({ sum: 5 });
    const product = await client.callTool({ name: 'multiply_numbers', arguments: { x: 6, y: 7 } });
    expect(product.structuredContent).toEqual({ product: 42 });
    const me = await client.callTool({ name: 'whoami', arguments: {} });
    expect(me.structuredContent).toMatchObject({ subject: 'alice', scopes: ['mcp:tools'] });
    expect(JSON.stringify(me)).not.toContain(String(provider.tokens()?.access_token));

    // The access token lives 2 s (plus the resource server's 10 s leeway); the refresh token carries
    // on. Three calls at once all hit 401, and the SDK (no single-flight in its auth()) refreshes
    // once per call with the one stored refresh token: every call must still succeed.
    const refreshBefore = provider.refreshToken;
    const saved: string[] = [];
    const saveTokens = provider.saveTokens.bind(provider);
    provider.saveTokens = (tokens) => {
      saved.push(String(tokens.refresh_token));
      saveTokens(tokens);
    };
    await new Promise((resolve) => setTimeout(resolve, 13_000));
    const later = await Promise.all(
      [1, 2, 3].map((a) => client.callTool({ name: 'add_numbers', arguments: { a, b: 1 } })),
    );
    expect(later.map((result) => result.structuredContent)).toEqual([
      { sum: 2 },
      { sum: 3 },
      { sum: 4 },
    ]);
    expect(saved.length).toBeGreaterThanOrEqual(2);
    expect(new Set(saved).size).toBe(saved.length);
    expect(provider.refreshToken).not.toBe(refreshBefore);
    expect(provider.authorizationUrls).toHaveLength(1);
    // Whichever refresh token the SDK kept (the last one saved) still refreshes.
    await new Promise((resolve) => setTimeout(resolve, 13_000));
    const after = await client.callTool({ name: 'add_numbers', arguments: { a: 5, b: 5 } });
    expect(after.structuredContent).toEqual({ sum: 10 });
    expect(provider.authorizationUrls).toHaveLength(1);
    await client.close();
  });

  it('gets 403 insufficient_scope for the admin tool, and succeeds after re-authorizing with the union of scopes', async () => {
    const provider = new HeadlessOAuthProvider({
      issuer: stack.issuer,
      login: ALICE,
    });
    let { client } = await connectAuthorized(provider);
    expect(provider.authorizationUrls).toHaveLength(1);
    let stepUp: unknown;
    try {
      await client.callTool({ name: 'server_status', arguments: {} });
    } catch (error) {
      stepUp = error;
    }
    expect(stepUp).toBeInstanceOf(UnauthorizedError);
    const second = provider.authorizationUrls[1] as URL;
    expect(second.searchParams.get('scope')?.split(' ').sort()).toEqual(['mcp:admin', 'mcp:tools']);
    // The SDK sent the user through authorization again; finish it and reconnect with the new token.
    await finishAuthV2(stack.mcpUrl, provider);
    await client.close();
    ({ client } = await connect(provider));
    const status = await client.callTool({ name: 'server_status', arguments: {} });
    expect(status.structuredContent).toMatchObject({ node: expect.stringMatching(/^v\d+/) });
    await client.close();
  });
});
