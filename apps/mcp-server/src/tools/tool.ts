import type { AuthInfo, McpServer } from '@modelcontextprotocol/server';

/** One tool: its name, the scopes a caller needs for it, and how it registers on a server. */
export interface ToolModule {
  readonly name: string;
  /** Every scope a call needs (a broader scope implies narrower ones, see SCOPE_HIERARCHY). */
  readonly scopes: readonly string[];
  register(server: McpServer, context: ToolContext): void;
}

export interface ToolContext {
  /** Set for authenticated requests (always, behind auth-core, whose AuthInfo has `extra.subject`). */
  readonly authInfo: AuthInfo | undefined;
  /** When this server process started (ms since the epoch). */
  readonly startedAt: number;
}

export const SCOPE_TOOLS = 'mcp:tools';
export const SCOPE_ADMIN = 'mcp:admin';
/** mcp:admin implies mcp:tools. */
export const SCOPE_HIERARCHY = { [SCOPE_ADMIN]: [SCOPE_TOOLS] } as const;

/** Text plus structured content, as MCP clients old and new read results. */
export function result<T extends Record<string, unknown>>(structured: T, text: string) {
  return { content: [{ type: 'text' as const, text }], structuredContent: structured };
}
