import { sendOAuthError } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';
import { requestOfflineAccessConsent } from '../provider/offline-access.js';
import type { ResourceRegistry } from '../provider/resources.js';
import { pageCsp, renderMessage } from '../ui/pages.js';
import { bufferedBody, replayBody } from './body.js';

/**
 * Rewrites OAuth request parameters before oidc-provider sees them, so every comparison it makes
 * is between canonical values:
 * - `resource` (RFC 8707) canonicalised (scheme/host case, default port, trailing slash);
 *   oidc-provider compares the token request's resource with the granted one verbatim.
 * - An authorization request without `scope` gets the resource's default scopes; oidc-provider
 *   would otherwise grant nothing and answer `access_denied`, and MCP clients (and the MCP
 *   conformance suite) do send requests without `scope`.
 * - `offline_access` is honoured without `prompt=consent` (provider/offline-access.ts).
 *
 * And refuses what oidc-provider would quietly normalise instead of refusing: a `response_type`
 * other than exactly `code` (it splits and de-duplicates the value, so `code code` passed).
 */

const FORM = 'application/x-www-form-urlencoded';

export function requestParams(
  resources: ResourceRegistry,
  paths: { authorization: string; token: string; par?: string },
) {
  const rewrite = (params: URLSearchParams, isAuthorization: boolean): boolean => {
    let changed = false;
    const requested = params.getAll('resource');
    if (requested.length > 0) {
      const canonical = requested.map((value) => resources.canonical(value));
      if (canonical.some((value, i) => value !== requested[i])) {
        params.delete('resource');
        for (const value of canonical) params.append('resource', value);
        changed = true;
      }
    }
    if (isAuthorization && !params.get('scope')) {
      const resource = params.get('resource') ?? resources.defaultResource;
      const scopes = resources.defaultScopes(resource);
      if (scopes.length > 0) {
        params.set('scope', scopes.join(' '));
        changed = true;
      }
    }
    if (isAuthorization && requestOfflineAccessConsent(params)) changed = true;
    return changed;
  };

  return async (ctx: Context, next: Next): Promise<void> => {
    const isAuthorization = ctx.path === paths.authorization || ctx.path === paths.par;
    if (!isAuthorization && ctx.path !== paths.token) return next();
    if (ctx.method === 'GET' && isAuthorization) {
      const params = new URLSearchParams(ctx.querystring);
      if (!responseTypeSupported(params)) {
        refuseResponseType(ctx);
        return;
      }
      if (rewrite(params, true)) {
        const before = ctx.req.url ?? '';
        ctx.req.url = `${ctx.path}?${params.toString()}`;
        // Keep an issuer-path prefix recorded in originalUrl (oidc-provider derives its mount path from it).
        const { originalUrl } = ctx.req;
        if (originalUrl?.endsWith(before))
          ctx.req.originalUrl =
            originalUrl.slice(0, originalUrl.length - before.length) + ctx.req.url;
      }
    } else if (ctx.method === 'POST' && ctx.is(FORM)) {
      const body = bufferedBody(ctx) ?? Buffer.alloc(0);
      const params = new URLSearchParams(body.toString('utf8'));
      if (isAuthorization && !responseTypeSupported(params)) {
        refuseResponseType(ctx);
        return;
      }
      replayBody(ctx.req, rewrite(params, isAuthorization) ? Buffer.from(params.toString()) : body);
      ctx.state.oauthParams = params;
    }
    return next();
  };
}

/** Absent (oidc-provider then asks for it) or exactly one `code`, the only response type served. */
function responseTypeSupported(params: URLSearchParams): boolean {
  const types = params.getAll('response_type');
  return types.length === 0 || (types.length === 1 && types[0] === 'code');
}

function refuseResponseType(ctx: Context): void {
  const description = 'Only response_type=code is supported';
  if (ctx.method === 'GET' && ctx.accepts('json', 'html') === 'html') {
    ctx.status = 400;
    ctx.set('cache-control', 'no-store');
    ctx.set('content-security-policy', pageCsp());
    ctx.type = 'html';
    ctx.body = renderMessage(
      'Request refused',
      `${description}. Start again from your application.`,
    );
    return;
  }
  sendOAuthError(ctx, 400, 'unsupported_response_type', description);
}
