import { z } from 'zod';
import { defineTool, result, SCOPE_ADMIN, SCOPE_TOOLS } from './tool.js';

/** An administrative tool: needs mcp:admin on top of mcp:tools, so step-up authorization is real. */
export const serverStatus = defineTool({
  name: 'server_status',
  scopes: [SCOPE_TOOLS, SCOPE_ADMIN],
  title: 'Server status (admin)',
  description: 'Uptime and memory of this MCP server. Needs the mcp:admin scope.',
  inputSchema: z.object({}),
  outputSchema: z.object({ uptimeSeconds: z.number(), rssMb: z.number(), node: z.string() }),
  annotations: { readOnlyHint: true },
  run: (_args, { startedAt }) => {
    const status = {
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
      node: process.version,
    };
    return result(
      status,
      `up ${status.uptimeSeconds} s, ${status.rssMb} MB resident, Node ${status.node}`,
    );
  },
});
