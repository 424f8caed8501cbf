/**
 * Per-tool scopes for MCP servers ("step-up"): a token good enough to connect may not be good
 * enough for every tool. The scopes a JSON-RPC message needs are those of every `tools/call` it
 * makes (a batch: the union), so one 403 `insufficient_scope` names all a client must ask for.
 * Check them with `ResourceServer.checkScopes`, or an adapter's `requireScopes`.
 */

/** The scopes of one tool by name; `undefined` for tools with no scopes of their own. */
export type ToolScopes =
  | ReadonlyMap<string, readonly string[]>
  | ((tool: string) => readonly string[] | undefined);

/** Every scope the `tools/call` requests in `message` (one JSON-RPC message or a batch) need. */
export function scopesForToolCalls(message: unknown, toolScopes: ToolScopes): string[] {
  const scopesOf =
    typeof toolScopes === 'function' ? toolScopes : (tool: string) => toolScopes.get(tool);
  const needed = new Set<string>();
  for (const one of Array.isArray(message) ? message : [message]) {
    const tool = toolCallName(one);
    for (const scope of (tool && scopesOf(tool)) || []) needed.add(scope);
  }
  return [...needed];
}

function toolCallName(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { method, params } = message as { method?: unknown; params?: { name?: unknown } };
  return method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
}
