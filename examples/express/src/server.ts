/**
 * An MCP server on Express 5, protected by @gatehouse/auth-core: Protected Resource Metadata,
 * 401/403 challenges, a scope every request needs (mcp:tools) and a tool that needs more
 * (mcp:admin, so clients step up), and the caller's AuthInfo in the tool handlers.
 *
 *   AUTH_ISSUER=http://localhost:4000 MCP_RESOURCE=http://localhost:3000/mcp npm start
 */
import { createResourceServer, scopesForToolCalls } from '@gatehouse/auth-core';
import {
  authenticateNodeRequest,
  requireScopes,
  serveProtectedResourceMetadata,
} from '@gatehouse/auth-core/node';
import { createMcpExpressApp } from '@modelcontextprotocol/express';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const issuer = process.env.AUTH_ISSUER ?? 'http://localhost:4000';
const resource = new URL(process.env.MCP_RESOURCE ?? 'http://localhost:3000/mcp');

// Against Keycloak, by environment alone: AUTH_ISSUER=<its realm URL> and AUTH_ALLOW_PLAIN_JWT=true
// (Keycloak types its access tokens `JWT`, not RFC 9068's `at+jwt`). Introspection instead:
// verification: { mode: 'introspection', clientId, clientSecret }.
const rs = createResourceServer({
  resource: resource.href,
  issuer,
  verification: { mode: 'jwt', allowPlainJwt: process.env.AUTH_ALLOW_PLAIN_JWT === 'true' },
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

function createServer(): McpServer {
  const server = new McpServer({ name: 'example-express', version: '1.0.0' });
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
    (_args, ctx) => ({
      content: [
        {
          type: 'text',
          text: `${ctx.http?.authInfo?.extra?.subject} via ${ctx.http?.authInfo?.clientId}`,
        },
      ],
    }),
  );
  server.registerTool(
    'admin_status',
    { description: 'Needs mcp:admin.', inputSchema: z.object({}), _meta: meta('admin_status') },
    () => ({ content: [{ type: 'text', text: `up ${Math.round(process.uptime())} s` }] }),
  );
  return server;
}

// JSON body parsing, and Host/Origin checks on a loopback host (DNS rebinding protection).
const app = createMcpExpressApp({ host: resource.hostname });

app.use((req, res, next) => {
  if (!serveProtectedResourceMetadata(rs, req, res)) next();
});

app.post(resource.pathname, async (req, res) => {
  // 401 with the challenge, 400 for a malformed request, 403 without mcp:tools: written here.
  const auth = await authenticateNodeRequest(rs, req, res);
  if (!auth) return;
  // Step-up: 403 insufficient_scope naming every scope the called tools need.
  if (!requireScopes(rs, auth, scopesForToolCalls(req.body, TOOL_SCOPES), res)) return;
  // Stateless: a server and a transport per request; the SDK reads `req.auth` for the handlers.
  const server = createServer();
  const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => void server.close());
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

app.listen(Number(resource.port || 80), resource.hostname, () => {
  console.log(`example-express: MCP server at ${resource.href}, tokens from ${issuer}`);
});
