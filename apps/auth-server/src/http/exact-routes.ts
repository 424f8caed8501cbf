import { sendOAuthError } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';
import type { Routes } from '../provider/routes.js';

/**
 * oidc-provider's router matches paths without regard to case and with one trailing slash
 * tolerated (`/TOKEN`, `/token/`, `/Reg`), while every middleware in front of it (rate limits, the
 * registration guard, parameter rewriting, refresh retries) compares paths exactly; a variant would
 * reach the provider past all of them. Variants of our routes are refused here, once, with 404:
 * clients use the exact URLs from the metadata.
 */

const WELL_KNOWN = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

const segmentsOf = (path: string) => path.split('/');
const sameIgnoringCase = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function exactRoutes(routes: Routes) {
  const known = [...Object.values(routes), ...WELL_KNOWN].map(segmentsOf);
  return async (ctx: Context, next: Next): Promise<void> => {
    const path = ctx.path;
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    const segments = segmentsOf(trimmed);
    for (const route of known) {
      if (segments.length < route.length) continue;
      const prefix = segments.slice(0, route.length);
      if (!prefix.every((segment, i) => sameIgnoringCase(segment, route[i] ?? ''))) continue;
      // The route's own spelling, exactly, and no trailing slash: the one path served.
      if (trimmed !== path || prefix.some((segment, i) => segment !== route[i])) {
        sendOAuthError(ctx, 404, 'not_found', 'No such endpoint; use the URLs from the metadata');
        return;
      }
    }
    await next();
  };
}
