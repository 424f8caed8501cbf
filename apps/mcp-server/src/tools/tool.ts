import type {
  AuthInfo,
  CallToolResult,
  McpServer,
  StandardSchemaWithJSON,
  ToolAnnotations,
} from '@modelcontextprotocol/server';
import type { ToolCallAudit } from '../tool-audit.js';

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
  /** Where each call is recorded (tool-audit.ts). */
  readonly audit: ToolCallAudit;
}

export const SCOPE_TOOLS = 'mcp:tools';
export const SCOPE_ADMIN = 'mcp:admin';
/** mcp:admin implies mcp:tools. */
export const SCOPE_HIERARCHY = { [SCOPE_ADMIN]: [SCOPE_TOOLS] } as const;

/** Text plus structured content, as MCP clients old and new read results. */
export function result<T extends Record<string, unknown>>(structured: T, text: string) {
  return { content: [{ type: 'text' as const, text }], structuredContent: structured };
}

/** Where a tool's scopes are published in `tools/list` (clients may ask for them up front). */
export const SCOPES_META = 'gatehouse/scopes';

/** A tool as written once: name, scopes, what the SDK shows, and what it does. */
export interface ToolDefinition<
  In extends StandardSchemaWithJSON,
  Out extends StandardSchemaWithJSON,
> {
  readonly name: string;
  /** Every scope a call needs; enforced before the call (http/app.ts) and published in `_meta`. */
  readonly scopes: readonly string[];
  readonly title: string;
  readonly description: string;
  readonly inputSchema: In;
  readonly outputSchema: Out;
  readonly annotations?: ToolAnnotations;
  run(
    args: StandardSchemaWithJSON.InferOutput<In>,
    context: ToolContext,
  ): CallToolResult | Promise<CallToolResult>;
}

/**
 * One tool from one definition: the name and the scopes are stated once, for the server's scope
 * check and for the SDK registration with its `_meta`, so the two cannot drift apart.
 */
export function defineTool<In extends StandardSchemaWithJSON, Out extends StandardSchemaWithJSON>(
  definition: ToolDefinition<In, Out>,
): ToolModule {
  const { name, scopes, run, ...config } = definition;
  return {
    name,
    scopes,
    register(server, context) {
      // The SDK's callback type is conditional on the schema, which TypeScript cannot resolve for
      // a generic `In`; `run`'s arguments were checked against `In` where the tool is defined.
      const callback = async (args: StandardSchemaWithJSON.InferOutput<In>) => {
        const started = performance.now();
        const audit = (outcome: 'success' | 'failure') =>
          context.audit({
            tool: name,
            authInfo: context.authInfo,
            outcome,
            durationMs: performance.now() - started,
            arguments: args,
          });
        try {
          const output = await run(args, context);
          audit(output.isError ? 'failure' : 'success');
          return output;
        } catch (error) {
          audit('failure');
          throw error;
        }
      };
      server.registerTool<Out, In>(
        name,
        { ...config, _meta: { [SCOPES_META]: [...scopes] } },
        callback as never,
      );
    },
  };
}
