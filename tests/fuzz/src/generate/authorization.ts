import { createHash } from 'node:crypto';
import type { PlannedRequest } from '../plan.js';
import type { Random } from '../random.js';
import type { FuzzContext } from './context.js';
import { finish, form, query } from './envelope.js';
import {
  basicAuth,
  contentType,
  deepJson,
  encode,
  forgedJwt,
  hostileUrl,
  mixedString,
  nastyString,
  nestingDepth,
  scopeValue,
} from './values.js';

/**
 * The authorization endpoint (GET and POST /auth), pushed authorization requests (POST /request)
 * and the resume step (/auth/:uid): valid parameters with a few mutated, repeated or added.
 */

type Pairs = Array<[string, string]>;

function challengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** The parameters of a valid request for the signed-in client. */
function validParams(r: Random, ctx: FuzzContext): Pairs {
  const verifier = r.alnum(43);
  return [
    ['response_type', 'code'],
    ['client_id', ctx.client.id],
    ['redirect_uri', ctx.redirectUri],
    ['code_challenge', challengeOf(verifier)],
    ['code_challenge_method', 'S256'],
    ['state', r.alnum(16)],
    ['scope', 'mcp:tools'],
    ['resource', r.chance(0.85) ? ctx.mcpUrl : ctx.opaqueResource],
  ];
}

const VALUES: Record<string, (r: Random, ctx: FuzzContext) => string> = {
  response_type: (r) =>
    r.pick([
      'code code',
      'token',
      'code id_token',
      'id_token',
      'none',
      '',
      'CODE',
      'code token',
      ' code',
      'code\u0000',
    ]),
  client_id: (r, ctx) =>
    r.pick([
      '',
      'unknown-client',
      ctx.managedClient.id,
      ctx.confidential.id,
      'https://127.0.0.1:1/client.json',
      'https://localhost:1/cimd#frag',
      'https://user@127.0.0.1:1/c',
      'http://127.0.0.1:1/client',
      nastyString(r, 5_000),
    ]),
  redirect_uri: (r, ctx) =>
    r.chance(0.3)
      ? `${ctx.redirectUri}${r.pick(['\u0000', '\r\n', '%0d%0a', '\t', '?extra=1', '#frag', '/', 'x', '\u202e', mixedString(r, 5)])}`
      : hostileUrl(r, `attacker-${ctx.seed}.test`),
  code_challenge: (r) =>
    r.pick([
      '',
      'short',
      'a'.repeat(42),
      'a'.repeat(129),
      'a'.repeat(10_000),
      '!!!!invalid chars!!!!',
      challengeOf('x').replace(/.$/, '='),
      mixedString(r, 43),
    ]),
  code_challenge_method: (r) =>
    r.pick(['plain', 's256', 'S512', '', 'none', 'S256 ', 'S256\u0000']),
  scope: (r) => scopeValue(r),
  resource: (r, ctx) =>
    r.pick([
      `${ctx.mcpUrl}/`,
      `${ctx.mcpUrl}#frag`,
      `${ctx.mcpUrl}?q=1`,
      ctx.mcpUrl.toUpperCase(),
      'http://127.0.0.1:1/unknown',
      '/relative',
      'urn:x:y',
      '',
      ctx.issuer,
      'not a uri',
      `${ctx.mcpUrl}\u0000`,
      `${ctx.mcpUrl}%00`,
      nastyString(r, 5_000),
    ]),
  state: (r) => nastyString(r, 10_000),
  nonce: (r) => nastyString(r, 1_000),
  prompt: (r) =>
    r.pick([
      'none',
      'login',
      'consent',
      'select_account',
      'create',
      'login consent',
      'none login',
      'garbage',
      '',
    ]),
  max_age: (r) => r.pick(['0', '-1', 'abc', '1e309', '99999999999999999999', '1.5', '']),
  response_mode: (r) =>
    r.pick(['query', 'fragment', 'form_post', 'query.jwt', 'jwt', 'web_message', 'garbage', '']),
  request: (r) => forgedJwt(r, { iss: 'x', aud: 'y', response_type: 'code', client_id: 'z' }),
  request_uri: (r) =>
    r.pick([
      'urn:ietf:params:oauth:request_uri:abc',
      'urn:ietf:params:oauth:request_uri:',
      'http://127.0.0.1:1/req',
      '',
      nastyString(r, 1_000),
    ]),
  claims: (r) =>
    r.pick([
      '{}',
      '{"id_token":{"sub":{"value":"admin"}}}',
      '{"userinfo":null}',
      'not json',
      deepJson(r, nestingDepth(r)),
    ]),
  login_hint: (r) => nastyString(r, 2_000),
  ui_locales: (r) => r.pick(['en', 'xx-XX', '', '\u0000', 'en '.repeat(1_000)]),
  id_token_hint: (r) => forgedJwt(r, { sub: 'alice' }),
  authorization_details: (r) => r.pick(['[]', '[{"type":"x"}]', '{}', deepJson(r, 1_000)]),
  dpop_jkt: (r) => r.pick(['', 'abc', 'a'.repeat(43)]),
};

/** Valid parameters with some replaced, repeated, dropped or added. */
export function mutatedParams(r: Random, ctx: FuzzContext): Pairs {
  const params = validParams(r, ctx);
  const mutations = r.weighted([
    [0, 2],
    [1, 5],
    [2, 3],
    [3, 2],
    [5, 1],
  ]);
  for (let i = 0; i < mutations; i++) {
    const name = r.pick(Object.keys(VALUES));
    const value = (VALUES[name] as (r: Random, ctx: FuzzContext) => string)(r, ctx);
    const at = params.findIndex(([key]) => key === name);
    const action = r.int(0, 9);
    if (action < 5 && at >= 0) params[at] = [name, value];
    else if (action < 7 && at >= 0)
      params.push([name, r.chance(0.5) ? value : (params[at]?.[1] ?? '')]);
    else if (action < 8 && at >= 0) params.splice(at, 1);
    else params.push([name, value]);
  }
  if (r.chance(0.03)) params.push(['x', 'y'.repeat(r.pick([20_000, 100_000]))]);
  return params;
}

export function authorization(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const params = mutatedParams(r, ctx);
  const headers: Array<[string, string]> = [];
  // With the signed-in browser's cookies a valid request runs to a new code, or to the consent page.
  if (r.chance(0.5)) headers.push(['Cookie', ctx.sessionCookie]);
  const method = r.weighted<string>([
    ['GET', 12],
    ['POST', 4],
    ['HEAD', 1],
    ['PUT', 1],
    ['OPTIONS', 1],
  ]);
  if (method === 'POST') {
    const type = contentType(r, 'application/x-www-form-urlencoded');
    if (type !== undefined) headers.push(['Content-Type', type]);
    return finish(r, ctx, index, {
      app: 'auth',
      method,
      target: r.chance(0.2) ? `/auth${query(params.slice(0, 2))}` : '/auth',
      route: '/auth',
      headers,
      body: form(params),
    });
  }
  // Raw (unencoded) now and then: control characters and spaces reach the parser as bytes.
  const target = `/auth${query(params, r.chance(0.05))}`;
  return finish(r, ctx, index, { app: 'auth', method, target, route: '/auth', headers });
}

export function pushedAuthorization(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const params = mutatedParams(r, ctx);
  const headers: Array<[string, string]> = [];
  const type = contentType(r, 'application/x-www-form-urlencoded');
  if (type !== undefined) headers.push(['Content-Type', type]);
  const auth = r.int(0, 5);
  if (auth === 0)
    headers.push([
      'Authorization',
      basicAuth(r, ctx.confidential.id, ctx.confidential.secret, r.chance(0.5)),
    ]);
  if (auth === 1)
    params.push(['client_secret', r.chance(0.5) ? ctx.confidential.secret : 'wrong-secret-value']);
  if (auth === 2)
    params.push(
      ['client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
      [
        'client_assertion',
        forgedJwt(r, { iss: ctx.client.id, sub: ctx.client.id, aud: ctx.issuer }),
      ],
    );
  if (r.chance(0.1)) params.push(['request_uri', 'urn:ietf:params:oauth:request_uri:x']);
  const body = r.chance(0.05) ? JSON.stringify(Object.fromEntries(params)) : form(params);
  const method = r.weighted<string>([
    ['POST', 10],
    ['GET', 1],
    ['PUT', 1],
  ]);
  return finish(r, ctx, index, {
    app: 'auth',
    method,
    target: '/request',
    route: '/request',
    headers,
    body,
  });
}

export function authorizationResume(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const live = ctx.resumeInteraction;
  const uid = r.weighted<string>([
    [live.uid, 5],
    [r.alnum(21), 2],
    ['x', 1],
    [encode(nastyString(r, 500)), 1],
  ]);
  const headers: Array<[string, string]> = [];
  if (r.chance(0.7))
    headers.push([
      'Cookie',
      r.chance(0.8)
        ? live.resumeCookie
        : `_interaction_resume=${uid}; _interaction_resume.sig=${r.alnum(27)}`,
    ]);
  const method = r.weighted<string>([
    ['GET', 6],
    ['POST', 2],
    ['DELETE', 1],
  ]);
  return finish(r, ctx, index, {
    app: 'auth',
    method,
    target: `/auth/${uid}`,
    route: '/auth/:uid',
    headers,
  });
}
