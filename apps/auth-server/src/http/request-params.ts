import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import type { ResourceRegistry } from '../provider/resources.js';
import { sendOAuthError } from './oauth-error.js';

/**
 * Rewrites OAuth request parameters before oidc-provider sees them, so every comparison it makes
 * is between canonical values:
 * - `resource` (RFC 8707) canonicalised (scheme/host case, default port, trailing slash);
 *   oidc-provider compares the token request's resource with the granted one verbatim.
 * - An authorization request without `scope` gets the resource's default scopes; oidc-provider
 *   would otherwise grant nothing and answer `access_denied`, and MCP clients (and the MCP
 *   conformance suite) do send requests without `scope`.
 */

const FORM = 'application/x-www-form-urlencoded';
const MAX_BODY = 56 * 1024;

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
    return changed;
  };

  return async (ctx: Context, next: Next): Promise<void> => {
    const isAuthorization = ctx.path === paths.authorization || ctx.path === paths.par;
    if (!isAuthorization && ctx.path !== paths.token) return next();
    if (ctx.method === 'GET' && isAuthorization) {
      const params = new URLSearchParams(ctx.querystring);
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
      const body = await readBody(ctx.req);
      if (body === undefined) {
        sendOAuthError(ctx, 413, 'invalid_request', `request body larger than ${MAX_BODY} bytes`);
        return;
      }
      const params = new URLSearchParams(body.toString('utf8'));
      replayBody(ctx.req, rewrite(params, isAuthorization) ? Buffer.from(params.toString()) : body);
      ctx.state.oauthParams = params;
    }
    return next();
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Makes a consumed request readable again for oidc-provider, which reads the body with
 * `req.iterator()` while `req.readable` is true. Narrow on purpose: only what its body reader uses.
 */
function replayBody(req: IncomingMessage, body: Buffer): void {
  req.headers['content-length'] = String(body.length);
  Object.defineProperty(req, 'readable', { value: true, configurable: true });
  Object.defineProperty(req, 'iterator', {
    configurable: true,
    value: async function* replay() {
      yield body;
    },
  });
}
