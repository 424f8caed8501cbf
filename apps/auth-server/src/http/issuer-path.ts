import type { Context, Next } from 'koa';

/**
 * Serves an issuer with a path (`https://host/tenant`). Everything of the authorization server
 * lives under the path, except the RFC 8414 and OIDC path-inserted discovery URLs at the host root
 * (`/.well-known/oauth-authorization-server/tenant`), which MCP clients try first. The prefix is
 * stripped before the inner routes and oidc-provider see the request; oidc-provider rebuilds its
 * URLs from `req.originalUrl`, so they keep the prefix.
 */
export function issuerPath(prefix: string) {
  const inserted = new Map([
    [`/.well-known/oauth-authorization-server${prefix}`, '/.well-known/oauth-authorization-server'],
    [`/.well-known/openid-configuration${prefix}`, '/.well-known/openid-configuration'],
  ]);
  return async (ctx: Context, next: Next): Promise<void> => {
    const wellKnown = inserted.get(ctx.path);
    if (wellKnown) {
      ctx.req.originalUrl = `${prefix}${wellKnown}`;
      ctx.path = wellKnown;
    } else if (ctx.path.startsWith(`${prefix}/`)) {
      ctx.req.originalUrl = ctx.req.url ?? ctx.path;
      ctx.path = ctx.path.slice(prefix.length);
    } else if (ctx.path !== '/healthz' && ctx.path !== '/readyz') {
      ctx.status = 404;
      ctx.body = { error: 'not_found' };
      return;
    }
    await next();
  };
}

declare module 'node:http' {
  interface IncomingMessage {
    /** Set when the issuer path prefix is stripped; oidc-provider derives its mount path from it. */
    originalUrl?: string;
  }
}
