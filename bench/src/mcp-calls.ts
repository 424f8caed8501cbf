/**
 * The MCP request every tools/call benchmark sends (add_numbers 2 + 3, as in the tutorial), and
 * the session set-up a stateful server (the tutorial's Python server) needs before it.
 */

export const TOOLS_CALL_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'add_numbers', arguments: { a: 2, b: 3 } },
});

const PROTOCOL_VERSION = '2025-06-18';

export const MCP_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': PROTOCOL_VERSION,
};

/**
 * Headers for tools/call requests to `url` with `token` (none for the no-auth server): initializes
 * an MCP session first and adds its id when the server hands one out (stateless servers do not).
 */
export async function mcpRequestHeaders(
  url: string,
  token: string | undefined,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    ...MCP_HEADERS,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const initialize = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'gatehouse-bench', version: '1.0.0' },
      },
    }),
  });
  await initialize.arrayBuffer();
  if (initialize.status !== 200)
    throw new Error(`initialize at ${url} answered HTTP ${initialize.status}`);
  const session = initialize.headers.get('mcp-session-id');
  if (session) {
    headers['mcp-session-id'] = session;
    const initialized = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    await initialized.arrayBuffer();
  }
  return headers;
}

/** One tools/call; throws unless it answered 200 with the tool's result (never time failures). */
export async function checkToolsCall(url: string, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers, body: TOOLS_CALL_BODY });
  const text = await response.text();
  if (response.status !== 200 || !text.includes('"result"') || text.includes('"isError":true'))
    throw new Error(`tools/call at ${url} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
}

/**
 * One MCP session per connection for a stateful server (the tutorial's Python server hands out
 * sessions; the Python SDK 2.3 stalls concurrent requests within one session, and N independent
 * clients would hold N sessions anyway). Each request takes a free session, each answer gives back
 * the one named in its `mcp-session-id` header. `first` (from {@link mcpRequestHeaders}) is one of
 * them. `undefined` for a stateless server (no sessions).
 */
export async function mcpSessionPool(
  url: string,
  token: string | undefined,
  first: Record<string, string>,
  size: number,
): Promise<
  | {
      setup: () => { headers: Record<string, string> };
      onResponse: (status: number, body: string, headers: Record<string, string>) => void;
    }
  | undefined
> {
  if (!first['mcp-session-id']) return undefined;
  const sessions = [first];
  while (sessions.length < size) sessions.push(await mcpRequestHeaders(url, token));
  const byId = new Map(sessions.map((headers) => [headers['mcp-session-id'], headers]));
  const free = [...sessions];
  return {
    setup: () => ({ headers: free.pop() ?? first }),
    onResponse: (_status, _body, headers) => {
      const session = byId.get(headers['mcp-session-id']);
      if (session) free.push(session);
    },
  };
}
