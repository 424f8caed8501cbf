/**
 * An MCP server on Hono, protected by @gatehouse/auth-core: Protected Resource Metadata, 401/403
 * challenges, a scope every request needs (mcp:tools) and a tool that needs more (mcp:admin, so
 * clients step up), and the caller's AuthInfo in the tool handlers. Hono runs anywhere; here on
 * Node through @hono/node-server.
 *
 *   AUTH_ISSUER=http://localhost:4000 MCP_RESOURCE=http://localhost:3000/mcp npm start
 */
import { type AuthInfo, createResourceServer, scopesForToolCalls } from '@gatehouse/auth-core';
import {
  authenticateFetchRequest,
  protectedResourceMetadataResponse,
  requireScopesResponse,
} from '@gatehouse/auth-core/fetch';
import { serve } from '@hono/node-server';
import { createMcpHonoApp } from '@modelcontextprotocol/hono';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { Hono } from 'hono';
import { z } from 'zod';

const issuer = process.env.AUTH_ISSUER ?? 'http://localhost:4000';
const resource = new URL(process.env.MCP_RESOURCE ?? 'http://localhost:3000/mcp');

// Against Keycloak: issuer `http://localhost:8180/realms/mcp`, and `allowPlainJwt: true` (its
// access tokens are typed `JWT`), or introspection: { mode: 'introspection', clientId, clientSecret }.
const rs = createResourceServer({
  resource: resource.href,
  issuer,
  verification: { mode: 'jwt' },
  scopesSupported: ['mcp:tools', 'mcp:admin'],
  requiredScopes: ['mcp:tools'],
  scopeHierarchy: { 'mcp:admin': ['mcp:tools'] },
});

// Each tool's scopes, checked before the call and published in tools/list.
const TOOL_SCOPES = new Map([
  ['add', ['mcp:tools']],
  ['whoami', ['mcp:tools']],
  ['admin_status', ['mcp:tools', 'mcp:admin']],
]);

function createMcpServer(): McpServer {
  const server = new McpServer({ name: 'example-hono', version: '1.0.0' });
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
    () => ({ content: [{ type: 'text', text: `up ${Math.round(process.uptime())} s` }] }),
  );
  return server;
}

// JSON bodies parsed into c.get('parsedBody'), and Host checks on a loopback host. The SDK's
// function returns a plain `Hono`, whose `c.get` knows no variables: the type names the one it sets.
const app = createMcpHonoApp({ host: resource.hostname }) as unknown as Hono<{
  Variables: { parsedBody: unknown };
}>;

app.get('/.well-known/*', (c) => protectedResourceMetadataResponse(rs, c.req.raw) ?? c.notFound());

app.post(resource.pathname, async (c) => {
  // 401 with the challenge, 400 for a malformed request, 403 without mcp:tools.
  const auth: AuthInfo | Response = await authenticateFetchRequest(rs, c.req.raw);
  if (auth instanceof Response) return auth;
  const body = c.get('parsedBody');
  // Step-up: 403 insufficient_scope naming every scope the called tools need.
  const denied = requireScopesResponse(rs, auth, scopesForToolCalls(body, TOOL_SCOPES));
  if (denied) return denied;
  // Stateless: a server and a transport per request; `authInfo` reaches the tool handlers.
  const server = createMcpServer();
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  return transport.handleRequest(c.req.raw, { parsedBody: body, authInfo: auth });
});

serve({ fetch: app.fetch, port: Number(resource.port || 80), hostname: resource.hostname }, () =>
  console.log(`example-hono: MCP server at ${resource.href}, tokens from ${issuer}`),
);
