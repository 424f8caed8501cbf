import type { Logger } from '@gatehouse/logging';
import type { Context, Next } from 'koa';
import { jsonRpcError } from './json-rpc.js';
import { createOriginMatcher } from './origins.js';

const ALLOWED_HEADERS =
  'authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id';

/**
 * Origin check and CORS for the MCP endpoint. A browser page on an origin not allowed must not
 * reach it (DNS rebinding, MCP transport security): 403. An allowed page gets CORS headers, with
 * `WWW-Authenticate` exposed so it can read the challenge, and its preflights are answered here.
 * Requests without an Origin (non-browser clients) pass untouched.
 */
export function mcpOriginPolicy(options: {
  readonly path: string;
  readonly allowedOrigins: readonly string[];
  readonly logger: Logger;
}) {
  const originAllowed = createOriginMatcher(options.allowedOrigins);
  return async (ctx: Context, next: Next): Promise<void> => {
    const origin = ctx.get('origin');
    if (ctx.path !== options.path || !origin) return next();
    if (!originAllowed(origin)) {
      options.logger.warn({ origin }, 'request refused: origin not allowed');
      jsonRpcError(ctx, 403, -32000, 'Origin not allowed');
      return;
    }
    ctx.set('access-control-allow-origin', origin);
    ctx.set('vary', 'Origin');
    ctx.set(
      'access-control-expose-headers',
      'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version',
    );
    if (ctx.method === 'OPTIONS') {
      ctx.set('access-control-allow-methods', 'GET, POST, DELETE');
      ctx.set('access-control-allow-headers', ALLOWED_HEADERS);
      ctx.set('access-control-max-age', '3600');
      ctx.status = 204;
      return;
    }
    await next();
  };
}
