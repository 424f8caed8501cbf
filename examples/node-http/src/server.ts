/**
 * An MCP server on plain node:http, protected by @gatehouse/auth-core: Protected Resource
 * Metadata, 401/403 challenges, a scope every request needs (mcp:tools) and a tool that needs more
 * (mcp:admin, so clients step up), and the caller's AuthInfo in the tool handlers.
 *
 *   AUTH_ISSUER=http://localhost:4000 MCP_RESOURCE=http://localhost:3000/mcp npm start
 */
import { createServer, type IncomingMessage } from 'node:http';
import { createResourceServer, scopesForToolCalls } from '@gatehouse/auth-core';
import {
  authenticateNodeRequest,
  requireScopes,
  serveProtectedResourceMetadata,
} from '@gatehouse/auth-core/node';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const issuer = process.env.AUTH_ISSUER ?? 'http://localhost:4000';
const resource = new URL(process.env.MCP_RESOURCE ?? 'http://localhost:3000/mcp');
const MAX_BODY = 1024 * 1024;

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
  const server = new McpServer({ name: 'example-node-http', version: '1.0.0' });
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

/** The JSON body of a POST, or undefined when it is too large or not JSON (the SDK answers that). */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

const server = createServer(async (req, res) => {
  if (serveProtectedResourceMetadata(rs, req, res)) return;
  if (new URL(req.url ?? '/', resource).pathname !== resource.pathname || req.method !== 'POST') {
    res.writeHead(404).end();
    return;
  }
  // 401 with the challenge, 400 for a malformed request, 403 without mcp:tools: written here.
  const auth = await authenticateNodeRequest(rs, req, res);
  if (!auth) return;
  const body = await readJson(req);
  // Step-up: 403 insufficient_scope naming every scope the called tools need.
  if (!requireScopes(rs, auth, scopesForToolCalls(body, TOOL_SCOPES), res)) return;
  // Stateless: a server and a transport per request; the SDK reads `req.auth` for the handlers.
  const mcp = createMcpServer();
  const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => void mcp.close());
  await mcp.connect(transport);
  await transport.handleRequest(req, res, body);
});

server.listen(Number(resource.port || 80), resource.hostname, () => {
  console.log(`example-node-http: MCP server at ${resource.href}, tokens from ${issuer}`);
});
