import type { Context, Next } from 'koa';

/**
 * CORS for the registration endpoint, which oidc-provider leaves without it. Browser-based MCP
 * clients (MCP Inspector) register from the page itself. Registration is open and uses no cookies,
 * so any origin may call it; nothing is exposed that a server-side client could not fetch.
 */
export function registrationCors(path: string) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== path && !ctx.path.startsWith(`${path}/`)) return next();
    if (!ctx.get('origin')) return next();
    ctx.set('access-control-allow-origin', '*');
    if (ctx.method === 'OPTIONS') {
      ctx.set('access-control-allow-methods', 'GET, POST, PUT, DELETE');
      ctx.set('access-control-allow-headers', 'authorization, content-type');
      ctx.set('access-control-max-age', '3600');
      ctx.status = 204;
      return;
    }
    await next();
  };
}
