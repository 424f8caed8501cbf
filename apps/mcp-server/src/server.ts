import { type AuthInfo, McpServer } from '@modelcontextprotocol/server';
import type { ToolCallAudit } from './tool-audit.js';
import { TOOLS } from './tools/index.js';

/**
 * The MCP server factory: the SDK's stateless handler asks for a fresh server per request, with
 * that request's AuthInfo, so tools can see who is calling (never the token itself).
 */
export function createMcpServerFactory(startedAt: number, audit: ToolCallAudit) {
  return ({ authInfo }: { authInfo?: AuthInfo | undefined }): McpServer => {
    const server = new McpServer(
      { name: 'gatehouse-mcp-server', title: 'Gatehouse demo MCP server', version: '0.1.0' },
      {
        instructions:
          'Demo tools behind OAuth 2.1: add_numbers, multiply_numbers, whoami, and server_status (needs mcp:admin).',
      },
    );
    for (const tool of TOOLS) tool.register(server, { authInfo, startedAt, audit });
    return server;
  };
}
