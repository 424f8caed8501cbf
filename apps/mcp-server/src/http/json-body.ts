import { jsonDepthWithin, MAX_JSON_DEPTH, readRequestBody } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';
import { jsonRpcError } from './json-rpc.js';

/**
 * Reads the JSON-RPC body of a POST to the MCP endpoint into `ctx.state.mcpBody`, for the
 * per-tool scope check and the SDK. After authentication, so an anonymous client cannot make the
 * server read a large body. Too large: 413; nested too deep or not JSON: 400, as JSON-RPC errors.
 */
export function mcpJsonBody(options: { readonly path: string; readonly maxBytes: number }) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== options.path || ctx.method !== 'POST') return next();
    const body = await readRequestBody(ctx.req, options.maxBytes);
    if (body === undefined) {
      jsonRpcError(ctx, 413, -32600, 'Request body too large');
      return;
    }
    const text = body.toString('utf8');
    if (!jsonDepthWithin(text)) {
      // Refused before parsing: the SDK's schema validation recurses and overflows the stack.
      jsonRpcError(
        ctx,
        400,
        -32600,
        `Invalid Request: nested deeper than ${MAX_JSON_DEPTH} levels`,
      );
      return;
    }
    try {
      ctx.state.mcpBody = JSON.parse(text);
    } catch {
      jsonRpcError(ctx, 400, -32700, 'Parse error');
      return;
    }
    await next();
  };
}
