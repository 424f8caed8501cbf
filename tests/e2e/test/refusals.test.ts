import { freePort, obtainToken } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

/** What the MCP server refuses, over real HTTP, with tokens from the real authorization server. */

let stack: Stack;
let otherResource: string;
const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
const mcpHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
const post = (headers: Record<string, string> = {}) =>
  fetch(stack.mcpUrl, { method: 'POST', headers: { ...mcpHeaders, ...headers }, body: listTools });

beforeAll(async () => {
  // The authorization server knows two resources; a token for the other one must not work here.
  otherResource = `http://localhost:${await freePort()}/mcp`;
  stack = await startStack({
    authEnv: { AUTH_ACCESS_TOKEN_TTL: '1' },
    extraResources: [{ resource: otherResource, scopes: ['mcp:tools'] }],
  });
});
afterAll(() => stack?.stop());

describe('MCP server refusals', () => {
  it('answers no credentials with 401, resource_metadata and scope, no error code', async () => {
    const response = await post();
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toBe(
      `Bearer scope="mcp:tools", resource_metadata="${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('accepts its own token (control)', async () => {
    const { accessToken } = await obtainToken(stack.issuer, stack.mcpUrl, 'mcp:tools');
    expect((await post({ authorization: `Bearer ${accessToken}` })).status).toBe(200);
  });

  it('refuses a token issued for another resource of the same authorization server', async () => {
    const { accessToken } = await obtainToken(stack.issuer, otherResource, 'mcp:tools');
    const response = await post({ authorization: `Bearer ${accessToken}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses an expired token', async () => {
    const { accessToken } = await obtainToken(stack.issuer, stack.mcpUrl, 'mcp:tools');
    // 1 s lifetime plus the resource server's 10 s leeway.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const response = await post({ authorization: `Bearer ${accessToken}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a tampered token', async () => {
    const { accessToken } = await obtainToken(stack.issuer, stack.mcpUrl, 'mcp:tools');
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'mcp:tools mcp:admin' })).toString('base64url')}.${signature}`;
    expect((await post({ authorization: `Bearer ${forged}` })).status).toBe(401);
  });

  it('answers 403 insufficient_scope for the admin tool, listing every scope it needs', async () => {
    const { accessToken } = await obtainToken(stack.issuer, stack.mcpUrl, 'mcp:tools');
    const response = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'server_status', arguments: {} },
      }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain(
      'error="insufficient_scope", error_description=',
    );
    expect(response.headers.get('www-authenticate')).toContain('scope="mcp:tools mcp:admin"');
  });

  it('refuses a disallowed Origin with 403 and serves an allowed one with CORS', async () => {
    expect((await post({ origin: 'https://evil.example.com' })).status).toBe(403);
    const preflight = await fetch(stack.mcpUrl, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:6274',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
    const unauthenticated = await post({ origin: 'http://localhost:6274' });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-expose-headers')).toContain(
      'WWW-Authenticate',
    );
  });

  it('serves Protected Resource Metadata at both well-known URLs with the exact resource', async () => {
    const origin = new URL(stack.mcpUrl).origin;
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const metadata = (await (await fetch(`${origin}${path}`)).json()) as Record<string, unknown>;
      expect(metadata.resource).toBe(stack.mcpUrl);
      expect(metadata.authorization_servers).toEqual([stack.issuer]);
    }
  });
});
