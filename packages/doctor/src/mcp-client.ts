import { MCP_HEADERS } from './checks/challenge.js';
import { type Exchange, exchange } from './http.js';

/**
 * The few MCP calls the doctor makes with a token (initialize, tools/list), over Streamable HTTP:
 * a JSON answer or an event stream carrying it; the session id, when the server gives one, is
 * sent back.
 */
export interface McpCall {
  readonly exchange: Exchange;
  readonly result?: Record<string, unknown>;
  readonly error?: string;
}

function rpcResult(
  answer: Exchange,
  id: number,
): { result?: Record<string, unknown>; error?: string } {
  const messages: unknown[] = [];
  if ((answer.headers.get('content-type') ?? '').includes('text/event-stream')) {
    for (const line of answer.text.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      try {
        messages.push(JSON.parse(line.slice(5)));
      } catch {
        // Not JSON: not a JSON-RPC message.
      }
    }
  } else if (answer.json !== undefined) {
    messages.push(...(Array.isArray(answer.json) ? answer.json : [answer.json]));
  }
  for (const message of messages) {
    if (message === null || typeof message !== 'object') continue;
    const m = message as { id?: unknown; result?: unknown; error?: { message?: unknown } };
    if (m.id !== id) continue;
    if (m.error) return { error: String(m.error.message ?? 'JSON-RPC error') };
    if (m.result && typeof m.result === 'object')
      return { result: m.result as Record<string, unknown> };
  }
  return { error: 'no JSON-RPC result in the answer' };
}

export class McpSession {
  #sessionId: string | undefined;
  #nextId = 1;

  constructor(
    readonly url: string,
    readonly accessToken: string,
  ) {}

  async call(method: string, params: Record<string, unknown> = {}): Promise<McpCall> {
    const id = this.#nextId++;
    const answer = await exchange(this.url, {
      method: 'POST',
      headers: this.#headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
    });
    const session = answer.headers.get('mcp-session-id');
    if (session) this.#sessionId = session;
    if (answer.status !== 200)
      return { exchange: answer, error: `HTTP ${answer.status || answer.error}` };
    return { exchange: answer, ...rpcResult(answer, id) };
  }

  async notify(method: string): Promise<void> {
    await exchange(this.url, {
      method: 'POST',
      headers: this.#headers(),
      body: JSON.stringify({ jsonrpc: '2.0', method }),
    });
  }

  #headers(): Record<string, string> {
    return {
      ...MCP_HEADERS,
      authorization: `Bearer ${this.accessToken}`,
      ...(this.#sessionId ? { 'mcp-session-id': this.#sessionId } : {}),
    };
  }
}
