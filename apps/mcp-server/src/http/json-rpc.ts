import type { Context } from 'koa';

/** Answers with a JSON-RPC error that belongs to no request (`id: null`), as the SDK does. */
export function jsonRpcError(ctx: Context, status: number, code: number, message: string): void {
  ctx.status = status;
  ctx.body = { jsonrpc: '2.0', error: { code, message }, id: null };
}
