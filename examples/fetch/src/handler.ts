/**
 * A fetch-style MCP endpoint (Request in, Response out), protected by @gatehouse/auth-core: the
 * shape Cloudflare Workers (`export default { fetch }`), Deno (`Deno.serve(fetch)`) and Bun
 * (`Bun.serve({ fetch })`) run. src/server.ts runs it on Node.
 */
import { createResourceServer, scopesForToolCalls } from '@gatehouse/auth-core';
import {
  authenticateFetchRequest,
  protectedResourceMetadataResponse,
  requireScopesResponse,
} from '@gatehouse/auth-core/fetch';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

// Each tool's scopes, checked before the call and published in tools/list.
const TOOL_SCOPES = new Map([
  ['add', ['mcp:tools']],
  ['whoami', ['mcp:tools']],
  ['admin_status', ['mcp:tools', 'mcp:admin']],
]);
const startedAt = Date.now();

function createMcpServer(): McpServer {
  const server = new McpServer({ name: 'example-fetch', version: '1.0.0' });
  const meta = (tool: string) => ({ 'gatehouse/scopes': TOOL_SCOPES.get(tool) });
  server.registerTool(
    'add',
    {
      description: 'Adds a and b.',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      _meta: meta('add'),
    },
    ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  );
  server.registerTool(
    'whoami',
    { description: 'Who is calling.', inputSchema: z.object({}), _meta: meta('whoami') },
    (_args, ctx) => {
      const auth = ctx.http?.authInfo;
      return { content: [{ type: 'text', text: `${auth?.extra?.subject} via ${auth?.clientId}` }] };
    },
  );
  server.registerTool(
    'admin_status',
    { description: 'Needs mcp:admin.', inputSchema: z.object({}), _meta: meta('admin_status') },
    () => ({
      content: [{ type: 'text', text: `up ${Math.round((Date.now() - startedAt) / 1000)} s` }],
    }),
  );
  return server;
}

/** The handler for `resource` (the URL clients use), trusting tokens of `issuer`. */
export function createFetchHandler(options: { issuer: string; resource: string }) {
  const resource = new URL(options.resource);
  // Against Keycloak: its realm URL as issuer and `allowPlainJwt: true` (tokens typed `JWT`).
  const rs = createResourceServer({
    resource: resource.href,
    issuer: options.issuer,
    verification: { mode: 'jwt' },
    scopesSupported: ['mcp:tools', 'mcp:admin'],
    requiredScopes: ['mcp:tools'],
    scopeHierarchy: { 'mcp:admin': ['mcp:tools'] },
  });
  const mcp = createMcpHandler(() => createMcpServer(), { legacy: 'stateless' });

  return async function fetch(request: Request): Promise<Response> {
    const metadata = protectedResourceMetadataResponse(rs, request);
    if (metadata) return metadata;
    if (new URL(request.url).pathname !== resource.pathname)
      return new Response(null, { status: 404 });
    // 401 with the challenge, 400 for a malformed request, 403 without mcp:tools.
    const auth = await authenticateFetchRequest(rs, request);
    if (auth instanceof Response) return auth;
    if (request.method === 'POST') {
      const body: unknown = await request
        .clone()
        .json()
        .catch(() => undefined);
      // Step-up: 403 insufficient_scope naming every scope the called tools need.
      const denied = requireScopesResponse(rs, auth, scopesForToolCalls(body, TOOL_SCOPES));
      if (denied) return denied;
    }
    return mcp.fetch(request, { authInfo: auth });
  };
}
