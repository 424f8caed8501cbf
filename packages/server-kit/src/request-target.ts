import type { Context, Next } from 'koa';
import { sendOAuthError } from './oauth-error.js';

/**
 * Request hygiene shared by both apps, before anything reads the request:
 *
 * - Absolute-form targets (`POST http://host/mcp HTTP/1.1`), which RFC 9112 §3.2.2 requires servers
 *   to accept: the target's authority replaces Host (as that section says), and the target becomes
 *   origin-form, so routing and URL building never see a full URL. `OPTIONS *` (asterisk-form) is
 *   answered here; any other target that is not a path is refused.
 * - Header fields that must appear once (RFC 9110: Authorization, Host, Content-Type, ...): Node
 *   keeps the first Authorization and drops the rest, so a request could be read one way by us and
 *   another way by a proxy in front. Refused.
 * - Content-Encoding other than identity: the body would be read as if it were plain; refused with
 *   415 (RFC 9110 §15.5.16), which tells the client to send it uncompressed.
 */

const SINGLE_FIELDS = new Set([
  'authorization',
  'proxy-authorization',
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'dpop',
]);

/** What the apps serve at all, for `Allow` on `OPTIONS *` and on CONNECT (http.ts). */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS';

function repeatedField(rawHeaders: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (!SINGLE_FIELDS.has(name)) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

export function requestHygiene() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const { req } = ctx;
    const target = req.url ?? '';
    if (!target.startsWith('/')) {
      if (target === '*' && ctx.method === 'OPTIONS') {
        ctx.set('allow', ALLOWED_METHODS);
        ctx.status = 204;
        return;
      }
      const url = /^https?:\/\//i.test(target) ? URL.parse(target) : null;
      if (!url || url.username || url.password) {
        // Nothing may parse it later: koa's path goes through Node's legacy URL parser, which
        // prints a deprecation warning for URLs such as `http://host:1:2/x`.
        req.url = '/';
        ctx.originalUrl = req.url;
        sendOAuthError(ctx, 400, 'invalid_request', 'The request target must be a path');
        return;
      }
      // Replaced, not deleted: the host check that follows applies to the target's authority.
      req.headers.host = url.host;
      req.url = `${url.pathname}${url.search}`;
      // koa copied the target at the start; ctx.href would return it as is.
      ctx.originalUrl = req.url;
      ctx.request.originalUrl = req.url;
    }
    const repeated = repeatedField(req.rawHeaders);
    if (repeated) {
      sendOAuthError(ctx, 400, 'invalid_request', `The ${repeated} header must appear only once`);
      return;
    }
    const encoding = ctx.get('content-encoding').trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      ctx.set('accept-encoding', 'identity');
      sendOAuthError(
        ctx,
        415,
        'invalid_request',
        'Compressed request bodies are not accepted; send the body without Content-Encoding',
      );
      return;
    }
    await next();
  };
}
