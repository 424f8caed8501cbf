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
      // The headers the page asks for (MCP SDKs add MCP-Protocol-Version), as oidc-provider's own
      // endpoints answer: no credentials cross origins here, so no header needs keeping out.
      ctx.set(
        'access-control-allow-headers',
        ctx.get('access-control-request-headers') || 'authorization, content-type',
      );
      ctx.vary('access-control-request-headers');
      ctx.set('access-control-max-age', '3600');
      ctx.status = 204;
      return;
    }
    await next();
  };
}
