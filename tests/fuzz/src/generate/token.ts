import type { PlannedRequest } from '../plan.js';
import type { Random } from '../random.js';
import type { FuzzContext } from './context.js';
import { finish, form } from './envelope.js';
import {
  basicAuth,
  contentType,
  encode,
  forgedJwt,
  mangledToken,
  nastyString,
  scopeValue,
} from './values.js';

/**
 * The token endpoint for every grant (and grants that do not exist), introspection and
 * revocation: real codes, tokens and client credentials mixed with mangled ones, parameters
 * repeated, client authentication given twice or in two ways.
 */

type Pairs = Array<[string, string]>;

const GRANTS = [
  'password',
  'client_credentials',
  'implicit',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:openid:params:grant-type:ciba',
  'authorization_code refresh_token',
  'AUTHORIZATION_CODE',
  '',
  'x'.repeat(5_000),
];

function grantParams(r: Random, ctx: FuzzContext): Pairs {
  const kind = r.weighted<'code' | 'refresh' | 'other'>([
    ['code', 4],
    ['refresh', 4],
    ['other', 2],
  ]);
  if (kind === 'code') {
    const live = r.pick(ctx.codes);
    const params: Pairs = [
      ['grant_type', 'authorization_code'],
      ['code', r.chance(0.5) ? live.code : mangledToken(r, live.code)],
      ['redirect_uri', r.chance(0.8) ? ctx.redirectUri : `${ctx.redirectUri}x`],
      [
        'code_verifier',
        r.weighted([
          [live.verifier, 5],
          [r.alnum(43), 2],
          ['', 1],
          ['a'.repeat(129), 1],
          [nastyString(r, 200), 1],
        ]),
      ],
    ];
    if (r.chance(0.7))
      params.push([
        'resource',
        r.chance(0.8)
          ? ctx.mcpUrl
          : r.pick([ctx.opaqueResource, 'http://127.0.0.1:1/unknown', `${ctx.mcpUrl}/`, '']),
      ]);
    return params;
  }
  if (kind === 'refresh') {
    const params: Pairs = [
      ['grant_type', 'refresh_token'],
      ['refresh_token', r.chance(0.5) ? ctx.refreshToken : mangledToken(r, ctx.refreshToken)],
    ];
    if (r.chance(0.4)) params.push(['scope', scopeValue(r)]);
    if (r.chance(0.4))
      params.push([
        'resource',
        r.pick([ctx.mcpUrl, ctx.opaqueResource, 'http://127.0.0.1:1/unknown', '']),
      ]);
    return params;
  }
  const params: Pairs = [['grant_type', r.pick(GRANTS)]];
  if (r.chance(0.5)) params.push(['scope', scopeValue(r)]);
  if (r.chance(0.3))
    params.push(['username', ctx.username], ['password', `wrong-${ctx.seed}-${r.alnum(12)}`]);
  if (r.chance(0.3))
    params.push(['assertion', forgedJwt(r, { iss: ctx.client.id, sub: 'alice', aud: ctx.issuer })]);
  if (r.chance(0.3))
    params.push(
      ['subject_token', ctx.accessToken],
      ['subject_token_type', 'urn:ietf:params:oauth:token-type:access_token'],
    );
  if (r.chance(0.2)) params.push(['device_code', r.alnum(40)]);
  return params;
}

/** Client authentication: the public client's id, the confidential client's secret, both, or junk. */
function clientAuth(
  r: Random,
  ctx: FuzzContext,
  params: Pairs,
  headers: Array<[string, string]>,
): void {
  switch (r.int(0, 9)) {
    case 0:
    case 1:
    case 2:
      params.push(['client_id', ctx.client.id]);
      break;
    case 3:
      headers.push([
        'Authorization',
        basicAuth(r, ctx.confidential.id, ctx.confidential.secret, r.chance(0.5)),
      ]);
      break;
    case 4:
      params.push(
        ['client_id', ctx.confidential.id],
        ['client_secret', r.chance(0.5) ? ctx.confidential.secret : 'wrong-secret-value'],
      );
      break;
    case 5:
      // Two ways at once (RFC 6749 §2.3: a client must use only one).
      headers.push([
        'Authorization',
        basicAuth(r, ctx.confidential.id, ctx.confidential.secret, true),
      ]);
      params.push(['client_id', ctx.client.id]);
      break;
    case 6:
      // Two Authorization headers.
      headers.push([
        'Authorization',
        basicAuth(r, ctx.confidential.id, ctx.confidential.secret, true),
      ]);
      headers.push([
        'Authorization',
        basicAuth(r, ctx.confidential.id, ctx.confidential.secret, false),
      ]);
      break;
    case 7:
      params.push([
        'client_id',
        r.pick([
          ctx.client.id,
          ctx.client.id,
          ctx.managedClient.id,
          'unknown',
          '',
          nastyString(r, 1_000),
        ]),
      ]);
      params.push(['client_id', r.pick([ctx.client.id, 'other'])]);
      break;
    case 8:
      params.push(
        ['client_id', ctx.client.id],
        ['client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
        [
          'client_assertion',
          forgedJwt(r, {
            iss: ctx.client.id,
            sub: ctx.client.id,
            aud: `${ctx.issuer}/token`,
            exp: 9_999_999_999,
          }),
        ],
      );
      break;
    default:
      headers.push([
        'Authorization',
        r.pick([
          `Bearer ${ctx.accessToken}`,
          'Basic',
          `Basic ${'A'.repeat(20_000)}`,
          `DPoP ${ctx.accessToken}`,
        ]),
      ]);
  }
}

/** Bodies repeated, reordered, JSON instead of a form, or broken. */
function bodyOf(r: Random, params: Pairs): string {
  const roll = r.int(0, 19);
  if (roll === 0) return JSON.stringify(Object.fromEntries(params));
  if (roll === 1) return `${form(params)}&${form(params)}`;
  if (roll === 2) return `${form(params)}&${'a['.repeat(r.pick([10, 1_000, 5_000]))}=1`;
  if (roll === 3)
    return `${form(params)}&resource[0]=${encode(params[0]?.[1] ?? '')}&resource[1]=x`;
  if (roll === 4) return form(params).replace(/=/g, r.pick(['==', '', '%3D', '%']));
  if (roll === 5) {
    const [first, ...rest] = params;
    return form(first ? [...rest, first, first] : rest);
  }
  if (roll === 6) return `${form(params)}&${'x=1&'.repeat(r.pick([1_000, 20_000]))}`;
  return form(params);
}

export function token(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const params = grantParams(r, ctx);
  const headers: Array<[string, string]> = [];
  clientAuth(r, ctx, params, headers);
  if (r.chance(0.1))
    params.push(['grant_type', r.pick(['refresh_token', 'authorization_code', 'password'])]);
  if (r.chance(0.08))
    headers.push([
      'DPoP',
      r.chance(0.6)
        ? r.pick(ctx.dpopProofs.token)
        : r.pick(['', 'garbage', forgedJwt(r, { htm: 'POST' })]),
    ]);
  const type = contentType(r, 'application/x-www-form-urlencoded');
  if (type !== undefined) headers.push(['Content-Type', type]);
  const method = r.weighted<string>([
    ['POST', 20],
    ['GET', 1],
    ['PUT', 1],
    ['OPTIONS', 1],
    ['DELETE', 1],
  ]);
  const target = r.pick([
    '/token',
    '/token',
    '/token',
    '/token',
    '/token?grant_type=refresh_token',
    '/token/',
    '//token',
  ]);
  const sentSecrets = params
    .filter(([name]) => name === 'password')
    .map(([, value]) => ({ value, label: 'password sent to the token endpoint' }));
  return finish(r, ctx, index, {
    app: 'auth',
    method,
    target,
    route: '/token',
    headers,
    body: bodyOf(r, params),
    sentSecrets,
  });
}

function tokenToInspect(r: Random, ctx: FuzzContext): string {
  return r.weighted<string>([
    [ctx.accessToken, 4],
    [ctx.opaqueAccessToken, 3],
    [ctx.refreshToken, 2],
    [mangledToken(r, r.pick([ctx.accessToken, ctx.opaqueAccessToken, ctx.refreshToken])), 3],
    [ctx.client.registrationAccessToken, 1],
    [r.pick(ctx.codes).code, 1],
    ['', 1],
    [nastyString(r, 20_000), 1],
  ]);
}

function inspection(r: Random, ctx: FuzzContext, index: number, path: string): PlannedRequest {
  const params: Pairs = [['token', tokenToInspect(r, ctx)]];
  if (r.chance(0.4))
    params.push([
      'token_type_hint',
      r.pick([
        'access_token',
        'refresh_token',
        'id_token',
        'garbage',
        '',
        'urn:ietf:params:oauth:token-type:jwt',
      ]),
    ]);
  if (r.chance(0.1)) params.push(['token', r.pick([ctx.accessToken, 'other'])]);
  const headers: Array<[string, string]> = [];
  // Mostly the confidential client (introspection needs one), else every other way.
  if (r.chance(0.5))
    headers.push([
      'Authorization',
      basicAuth(r, ctx.confidential.id, ctx.confidential.secret, r.chance(0.7)),
    ]);
  else clientAuth(r, ctx, params, headers);
  if (r.chance(0.08))
    headers.push([
      'Authorization',
      r.pick([
        `Bearer ${ctx.accessToken}`,
        basicAuth(r, ctx.confidential.id, ctx.confidential.secret, false),
      ]),
    ]);
  const type = contentType(r, 'application/x-www-form-urlencoded');
  if (type !== undefined) headers.push(['Content-Type', type]);
  if (r.chance(0.1))
    headers.push([
      'Accept',
      r.pick(['application/token-introspection+jwt', 'application/jwt', 'text/html']),
    ]);
  const method = r.weighted<string>([
    ['POST', 12],
    ['GET', 1],
    ['PUT', 1],
    ['OPTIONS', 1],
  ]);
  return finish(r, ctx, index, {
    app: 'auth',
    method,
    target: path,
    route: path,
    headers,
    body: bodyOf(r, params),
  });
}

export function introspection(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  return inspection(r, ctx, index, '/token/introspection');
}

export function revocation(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  return inspection(r, ctx, index, '/token/revocation');
}
