import type { AppName, PlannedRequest } from '../plan.js';
import type { Random } from '../random.js';
import type { FuzzContext } from './context.js';
import { finish, form, query } from './envelope.js';
import { contentType, forgedJwt, mangledToken, nastyString } from './values.js';

/**
 * The small endpoints: metadata of both apps (and the path-inserted and malformed variants of
 * their well-known URLs), JWKS, userinfo, health, logout, and paths that exist nowhere.
 */

const AUTH_METADATA = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server/',
  '/.well-known/openid-configuration/',
  '/.well-known/oauth-authorization-server/tenant',
  '/.well-known/openid-configuration/tenant',
  '/tenant/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server/mcp',
  '/.well-known/oauth-protected-resource',
  '//.well-known/openid-configuration',
  '/.well-known//openid-configuration',
  '/.WELL-KNOWN/openid-configuration',
  '/.well-known/openid-configuration%00',
  '/.well-known%2fopenid-configuration',
  '/.well-known/openid-configuration?x=1',
  '/.well-known/../.well-known/openid-configuration',
  '/.well-known/',
  '/.well-known/webfinger?resource=acct:alice@localhost',
];

const MCP_METADATA = [
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-protected-resource/mcp/',
  '/.well-known/oauth-protected-resource/other',
  '/.well-known/oauth-protected-resource//mcp',
  '/.well-known/oauth-protected-resource/MCP',
  '/.well-known/oauth-protected-resource/mcp?x=1',
  '/.well-known/oauth-protected-resource%2fmcp',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/mcp/.well-known/oauth-protected-resource',
];

const NOWHERE = [
  '/',
  '/favicon.ico',
  '/robots.txt',
  '/admin',
  '/.env',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/%00',
  '/%',
  '/%zz',
  '/token/../reg',
  '/\u00e9',
  '/interaction',
  '/interaction/',
  '/auth/',
  '/session',
  '/device',
  '/backchannel',
  '/.well-known',
];

const METHODS: ReadonlyArray<readonly [string, number]> = [
  ['GET', 12],
  ['HEAD', 2],
  ['POST', 2],
  ['OPTIONS', 2],
  ['PUT', 1],
  ['DELETE', 1],
  ['PATCH', 1],
  ['TRACE', 1],
];

function metadata(r: Random, ctx: FuzzContext, index: number, app: AppName): PlannedRequest {
  const path = r.pick(app === 'auth' ? AUTH_METADATA : MCP_METADATA);
  const method = r.weighted(METHODS);
  const headers: Array<[string, string]> = [];
  if (method === 'OPTIONS' || r.chance(0.1)) {
    headers.push([
      'Origin',
      r.pick(['http://localhost:6274', 'https://origin.fuzz.invalid', 'null', 'http://127.1:1']),
    ]);
    headers.push(['Access-Control-Request-Method', r.pick(['GET', 'POST', 'DELETE', 'TRACE'])]);
  }
  if (r.chance(0.1)) headers.push(['If-None-Match', r.pick(['*', '"x"', 'W/"y"'])]);
  const route = path.split('?')[0] ?? path;
  return finish(r, ctx, index, {
    app,
    method,
    target: path,
    route,
    headers,
    body: method === 'POST' ? '{}' : undefined,
  });
}

export function authMetadata(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  return metadata(r, ctx, index, 'auth');
}

export function mcpMetadata(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  return metadata(r, ctx, index, 'mcp');
}

export function misc(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const kind = r.weighted<'jwks' | 'me' | 'health' | 'nowhere'>([
    ['jwks', 2],
    ['me', 3],
    ['health', 3],
    ['nowhere', 2],
  ]);
  const app: AppName = kind === 'jwks' || kind === 'me' ? 'auth' : r.pick<AppName>(['auth', 'mcp']);
  const method = r.weighted(METHODS);
  const headers: Array<[string, string]> = [];
  let target: string;
  let route: string;
  let body: string | undefined;
  if (kind === 'jwks') {
    target = r.pick(['/jwks', '/jwks', '/jwks/', '/jwks?kid=x', '/jwks.json']);
    route = '/jwks';
  } else if (kind === 'me') {
    route = '/me';
    const token = r.weighted<string>([
      [ctx.accessToken, 3],
      [ctx.opaqueAccessToken, 2],
      [mangledToken(r, ctx.accessToken), 2],
      [forgedJwt(r, { sub: 'alice' }), 1],
    ]);
    const where = r.int(0, 3);
    target = where === 0 ? `/me${query([['access_token', token]])}` : '/me';
    if (where === 1 && method !== 'GET') {
      body = form([['access_token', token]]);
      headers.push([
        'Content-Type',
        contentType(r, 'application/x-www-form-urlencoded') ?? 'text/plain',
      ]);
    } else if (where !== 0)
      headers.push(['Authorization', `${r.pick(['Bearer', 'DPoP', 'bearer', 'Basic'])} ${token}`]);
  } else if (kind === 'health') {
    target = r.pick(['/healthz', '/readyz', '/healthz?x=1', '/healthz/', '/HEALTHZ', '/readyz%00']);
    route = target.split('?')[0] ?? target;
  } else {
    target = r.pick([
      ...NOWHERE,
      `/${nastyString(r, 2_000).replace(/[\s\r\n\0]/g, '')}`,
      `/${'a/'.repeat(r.pick([100, 4_000]))}`,
    ]);
    route = '/(unknown)';
    if (method === 'POST') body = r.pick(['{}', 'x=1', '']);
  }
  return finish(r, ctx, index, { app, method, target, route, headers, body });
}

export function endSession(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const step = r.weighted<'end' | 'confirm' | 'success'>([
    ['end', 5],
    ['confirm', 3],
    ['success', 1],
  ]);
  const headers: Array<[string, string]> = [];
  // The confirm step gets the logout browser's session: a real logout ends only that one. The
  // other steps get the main session (showing the form would replace the logout one's token).
  const session = step === 'confirm' ? ctx.logout.cookie : ctx.sessionCookie;
  if (r.chance(0.6))
    headers.push([
      'Cookie',
      r.chance(0.8) ? session : `_session=${r.alnum(21)}; _session.sig=${r.alnum(27)}`,
    ]);
  const params: Array<[string, string]> = [];
  if (step === 'end') {
    if (r.chance(0.4))
      params.push(['client_id', r.pick([ctx.client.id, ctx.managedClient.id, 'unknown', ''])]);
    if (r.chance(0.4))
      params.push([
        'post_logout_redirect_uri',
        r.pick([
          ctx.redirectUri,
          'http://127.0.0.1:1/after',
          'javascript:alert(1)',
          nastyString(r, 3_000),
        ]),
      ]);
    if (r.chance(0.3))
      params.push([
        'id_token_hint',
        r.pick([forgedJwt(r, { sub: 'alice', aud: ctx.client.id }), ctx.accessToken, 'garbage']),
      ]);
    if (r.chance(0.3)) params.push(['state', nastyString(r, 3_000)]);
    if (r.chance(0.2)) params.push(['ui_locales', r.pick(['en', '\u0000', 'xx'])]);
    if (r.chance(0.2)) params.push(['logout_hint', nastyString(r, 500)]);
  } else if (step === 'confirm') {
    params.push([
      'xsrf',
      r.weighted<string>([
        [ctx.logout.xsrf, 4],
        [mangledToken(r, ctx.logout.xsrf), 3],
        ['', 1],
        [nastyString(r, 5_000), 1],
      ]),
    ]);
    params.push([
      'logout',
      r.weighted<string>([
        ['yes', 2],
        ['no', 4],
        ['', 2],
        ['maybe', 2],
      ]),
    ]);
  }
  const method =
    step === 'confirm'
      ? r.weighted<string>([
          ['POST', 8],
          ['GET', 1],
        ])
      : r.weighted<string>([
          ['GET', 5],
          ['POST', 4],
          ['PUT', 1],
        ]);
  const path = step === 'end' ? '/session/end' : `/session/end/${step}`;
  let target = path;
  let body: string | undefined;
  if (method === 'POST') {
    body = form(params);
    const type = contentType(r, 'application/x-www-form-urlencoded');
    if (type !== undefined) headers.push(['Content-Type', type]);
  } else target = `${path}${query(params)}`;
  return finish(r, ctx, index, { app: 'auth', method, target, route: path, headers, body });
}
