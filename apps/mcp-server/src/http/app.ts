import type { ResourceServer } from '@gatehouse/auth-core';
import { koaAuth, koaProtectedResourceMetadata } from '@gatehouse/auth-core/koa';
import type { Logger } from '@gatehouse/logging';
import {
  hostGuard,
  jsonDepthWithin,
  logAppErrors,
  MAX_JSON_DEPTH,
  readRequestBody,
  requestHygiene,
  requestLog,
} from '@gatehouse/server-kit';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import Koa, { type Context } from 'koa';
import { createMcpServerFactory } from '../server.js';
import { TOOLS } from '../tools/index.js';
import { SCOPE_TOOLS } from '../tools/tool.js';
import { createOriginMatcher } from './origins.js';

const MAX_BODY = 4 * 1024 * 1024;
/** What Streamable HTTP uses (POST messages, GET streams, DELETE sessions) and CORS preflights. */
const MCP_METHODS = new Set(['GET', 'POST', 'DELETE', 'OPTIONS']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const MCP_PATH_HEADERS =
  'authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id';

export interface McpHttpDependencies {
  readonly resourceServer: ResourceServer;
  readonly allowedOrigins: readonly string[];
  readonly logger: Logger;
  /** The canonical resource URI (`http://localhost:3000/mcp`). */
  readonly resource: string;
}

/**
 * The koa app: request ids and access log, Origin check and CORS for browser clients,
 * Protected Resource Metadata, auth-core's bearer check (401/403 challenges), a per-tool scope
 * check (403 insufficient_scope listing every scope the tool needs), then the MCP SDK's stateless
 * Streamable HTTP handler.
 */
export function createHttpApp(deps: McpHttpDependencies): Koa {
  const { logger, resourceServer } = deps;
  const resourceUrl = new URL(deps.resource);
  const mcpPath = resourceUrl.pathname || '/';
  const app = new Koa();
  const originAllowed = createOriginMatcher(deps.allowedOrigins);
  const startedAt = Date.now();
  const handle = toNodeHandler(
    createMcpHandler(createMcpServerFactory(startedAt), { legacy: 'stateless' }),
  );
  const toolScopes = new Map(TOOLS.map((tool) => [tool.name, tool.scopes]));

  app.use(requestLog(logger, ['/healthz']));
  app.use(requestHygiene());

  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    await next();
  });

  // A server on loopback answers only to loopback host names (as the MCP SDK's own check): with any
  // Host, a web page could reach it through DNS rebinding (MCP transport security). Elsewhere
  // nothing is built from the Host.
  if (LOOPBACK_HOSTS.has(resourceUrl.hostname)) {
    app.use(
      hostGuard({
        origin: resourceUrl.origin,
        proxy: false,
        onRefused: (ctx, reason) =>
          logger.info(
            { requestId: ctx.state.requestId, host: ctx.get('host'), reason },
            'request for another host refused',
          ),
      }),
    );
  }

  app.use(async (ctx, next) => {
    if (ctx.path !== mcpPath || MCP_METHODS.has(ctx.method)) return next();
    ctx.status = 405;
    ctx.set('allow', [...MCP_METHODS].join(', '));
    ctx.body = {
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Method not allowed' },
      id: null,
    };
  });

  // Origin: a browser page on a disallowed origin must not reach the MCP endpoint (DNS rebinding).
  app.use(async (ctx, next) => {
    const origin = ctx.get('origin');
    if (ctx.path !== mcpPath || !origin) return next();
    if (!originAllowed(origin)) {
      logger.warn({ origin }, 'request refused: origin not allowed');
      ctx.status = 403;
      ctx.body = {
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Origin not allowed' },
        id: null,
      };
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
      ctx.set('access-control-allow-headers', MCP_PATH_HEADERS);
      ctx.set('access-control-max-age', '3600');
      ctx.status = 204;
      return;
    }
    await next();
  });

  app.use(koaProtectedResourceMetadata(resourceServer));

  const authenticate = koaAuth(resourceServer, { requiredScopes: [SCOPE_TOOLS] });
  app.use(async (ctx, next) => {
    if (ctx.path !== mcpPath) return next();
    await authenticate(ctx, async () => {
      const auth = ctx.state.auth;
      let body: unknown;
      if (ctx.method === 'POST') {
        const parsed = await readJson(ctx);
        if (!parsed.ok) return;
        body = parsed.value;
        // Step-up: a tool that needs more scopes than the token has gets 403 insufficient_scope.
        for (const message of Array.isArray(body) ? body : [body]) {
          const name = toolCallName(message);
          const scopes = name ? toolScopes.get(name) : undefined;
          const denied = scopes && auth ? resourceServer.checkScopes(auth, scopes) : undefined;
          if (denied) {
            ctx.status = denied.response.status;
            for (const [header, value] of Object.entries(denied.response.headers))
              ctx.set(header, typeof value === 'string' ? value : [...value]);
            ctx.body = denied.response.body;
            return;
          }
        }
      }
      ctx.respond = false;
      // The SDK's Node types want `method` present; it always is on a server request.
      await handle(ctx.req as Parameters<typeof handle>[0], ctx.res, body);
    });
  });

  logAppErrors(app, logger);
  return app;
}

function toolCallName(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { method, params } = message as { method?: unknown; params?: { name?: unknown } };
  return method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
}

async function readJson(ctx: Context): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const body = await readRequestBody(ctx.req, MAX_BODY);
  if (body === undefined) {
    ctx.status = 413;
    ctx.body = {
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Request body too large' },
      id: null,
    };
    return { ok: false };
  }
  const text = body.toString('utf8');
  if (!jsonDepthWithin(text)) {
    // Refused before parsing: the SDK's schema validation recurses and overflows the stack.
    ctx.status = 400;
    ctx.body = {
      jsonrpc: '2.0',
      error: {
        code: -32600,
        message: `Invalid Request: nested deeper than ${MAX_JSON_DEPTH} levels`,
      },
      id: null,
    };
    return { ok: false };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    ctx.status = 400;
    ctx.body = { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null };
    return { ok: false };
  }
}
