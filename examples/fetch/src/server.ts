/**
 * The fetch handler on Node, through @hono/node-server (any runtime with a fetch server works the
 * same way).
 *
 *   AUTH_ISSUER=http://localhost:4000 MCP_RESOURCE=http://localhost:3000/mcp npm start
 */
import { serve } from '@hono/node-server';
import { createFetchHandler } from './handler.js';

const issuer = process.env.AUTH_ISSUER ?? 'http://localhost:4000';
const resource = new URL(process.env.MCP_RESOURCE ?? 'http://localhost:3000/mcp');

serve(
  {
    fetch: createFetchHandler({ issuer, resource: resource.href }),
    port: Number(resource.port || 80),
    hostname: resource.hostname,
  },
  () => console.log(`example-fetch: MCP server at ${resource.href}, tokens from ${issuer}`),
);
