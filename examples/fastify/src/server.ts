/**
 * An MCP server on Fastify 5, protected by @gatehouse/auth-core: Protected Resource Metadata,
 * 401/403 challenges, a scope every request needs (mcp:tools) and a tool that needs more
 * (mcp:admin, so clients step up), and the caller's AuthInfo in the tool handlers.
 *
 *   AUTH_ISSUER=http://localhost:4000 MCP_RESOURCE=http://localhost:3000/mcp npm start
 */
import {
  type AuthInfo,
  createResourceServer,
  type ResponseParts,
  scopesForToolCalls,
} from '@gatehouse/auth-core';
import { toAuthRequest } from '@gatehouse/auth-core/node';
import { createMcpFastifyApp } from '@modelcontextprotocol/fastify';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer } from '@modelcontextprotocol/server';
import type { FastifyReply } from 'fastify';
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
  const server = new McpServer({ name: 'example-fastify', version: '1.0.0' });
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

/** auth-core's framework-neutral response, sent the Fastify way. */
function send(reply: FastifyReply, parts: ResponseParts) {
  for (const [name, value] of Object.entries(parts.headers))
    reply.header(name, typeof value === 'string' ? value : [...value]);
  return reply.code(parts.status).send(parts.body === '' ? undefined : parts.body);
}

// JSON body parsing, and Host checks on a loopback host (DNS rebinding protection).
const app = createMcpFastifyApp({ host: resource.hostname });

// onRequest runs before the body is read: metadata, and authentication of every MCP request, so an
// anonymous client cannot make the server read a large body.
app.addHook('onRequest', async (request, reply) => {
  const path = request.url.split('?')[0] ?? '/';
  const metadata = rs.metadataResponse(request.method, path);
  if (metadata) return send(reply, metadata);
  if (path !== resource.pathname) return;
  // 401 with the challenge, 400 for a malformed request, 403 without mcp:tools.
  const outcome = await rs.authenticate(toAuthRequest(request.raw));
  if (!outcome.ok) return send(reply, outcome.response);
  // Where the SDK's Node transport looks for it, to hand it to tool handlers (ctx.http.authInfo).
  (request.raw as { auth?: AuthInfo }).auth = outcome.authInfo;
});

app.post(resource.pathname, async (request, reply) => {
  const auth = (request.raw as { auth?: AuthInfo }).auth;
  // Step-up: 403 insufficient_scope naming every scope the called tools need.
  const denied = auth && rs.checkScopes(auth, scopesForToolCalls(request.body, TOOL_SCOPES));
  if (denied) return send(reply, denied.response);
  // Stateless: a server and a transport per request, writing the raw response.
  reply.hijack();
  const server = createMcpServer();
  const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  reply.raw.on('close', () => void server.close());
  await server.connect(transport);
  await transport.handleRequest(request.raw, reply.raw, request.body);
});

await app.listen({ port: Number(resource.port || 80), host: resource.hostname });
console.log(`example-fastify: MCP server at ${resource.href}, tokens from ${issuer}`);
