import type { PlannedRequest } from '../plan.js';
import type { Random } from '../random.js';
import type { FuzzContext } from './context.js';
import { finish } from './envelope.js';
import {
  contentType,
  deepJson,
  duplicateKeys,
  encode,
  hostileUrl,
  jsonValue,
  mangledToken,
  mixedString,
  NASTY_STRINGS,
  nastyString,
  nestingDepth,
  notJson,
  scopeValue,
} from './values.js';

/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592): metadata of every wrong
 * type and shape, and the registration access tokens right, crossed and mangled.
 */

/**
 * Extension metadata (RFC 7591 §2 lets clients send fields the server does not know): validation
 * passes them through, so a hostile value reaches whatever reads the whole body afterwards.
 */
const EXTENSIONS = ['x_vendor_extension', 'extension', 'client_metadata', 'ui', 'software_info'];

/** A field to mutate: mostly registered metadata, sometimes an extension. */
function fieldName(r: Random): string {
  return r.chance(0.3) ? r.pick(EXTENSIONS) : r.pick(FIELDS);
}

const FIELDS = [
  'client_name',
  'redirect_uris',
  'grant_types',
  'response_types',
  'token_endpoint_auth_method',
  'scope',
  'application_type',
  'client_uri',
  'logo_uri',
  'tos_uri',
  'policy_uri',
  'contacts',
  'post_logout_redirect_uris',
  'jwks',
  'jwks_uri',
  'software_id',
  'software_version',
  'software_statement',
  'client_id',
  'client_secret',
  'client_secret_expires_at',
  'id_token_signed_response_alg',
  'subject_type',
  'sector_identifier_uri',
  'default_max_age',
  'require_auth_time',
  'request_uris',
  'initiate_login_uri',
  'token_endpoint_auth_signing_alg',
  'dpop_bound_access_tokens',
  '__proto__',
  'constructor',
];

function validMetadata(r: Random, ctx: FuzzContext): Array<[string, string]> {
  const entries: Array<[string, string]> = [
    ['client_name', JSON.stringify(r.chance(0.5) ? 'fuzz client' : nastyString(r, 2_000))],
    ['redirect_uris', JSON.stringify([ctx.redirectUri])],
  ];
  if (r.chance(0.6))
    entries.push([
      'token_endpoint_auth_method',
      JSON.stringify(
        r.pick([
          'none',
          'none',
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
          'client_secret_jwt',
          'tls_client_auth',
          'self_signed_tls_client_auth',
          'garbage',
        ]),
      ),
    ]);
  if (r.chance(0.4))
    entries.push([
      'grant_types',
      JSON.stringify(
        r.pick([
          ['authorization_code', 'refresh_token'],
          ['authorization_code'],
          ['client_credentials'],
          ['implicit'],
          ['password'],
          ['urn:ietf:params:oauth:grant-type:device_code'],
          [],
          ['refresh_token'],
        ]),
      ),
    ]);
  if (r.chance(0.3))
    entries.push([
      'response_types',
      JSON.stringify(r.pick([['code'], ['token'], ['code id_token'], ['none'], [], ['id_token']])),
    ]);
  if (r.chance(0.3)) entries.push(['scope', JSON.stringify(scopeValue(r))]);
  if (r.chance(0.2))
    entries.push(['application_type', JSON.stringify(r.pick(['web', 'native', 'browser', '']))]);
  return entries;
}

/** A mutation of one field: wrong type, hostile string, deep value, or a URL that is not one. */
function mutatedField(r: Random, ctx: FuzzContext, field: string): string {
  switch (r.int(0, 7)) {
    case 0:
      return jsonValue(r, 3);
    case 1:
      return JSON.stringify(nastyString(r, 20_000));
    case 2:
      return JSON.stringify([hostileUrl(r, `attacker-${ctx.seed}.test`)]);
    case 3:
      return JSON.stringify(
        Array.from({ length: r.int(2, 5) }, () => hostileUrl(r, `attacker-${ctx.seed}.test`)),
      );
    case 4:
      return field.endsWith('uris')
        ? JSON.stringify(hostileUrl(r, `attacker-${ctx.seed}.test`))
        : '[]';
    case 5:
      return JSON.stringify([
        `${ctx.redirectUri}${r.pick(['\u0000', '\r\n', '\t', ' ', '#x', '?a=\u202e', '/../x', mixedString(r, 8)])}`,
      ]);
    case 6:
      return JSON.stringify(
        Array.from({ length: r.pick([100, 1_000]) }, (_, i) => `http://127.0.0.1:1/cb${i}`),
      );
    default:
      return r.pick([
        'null',
        '{}',
        '[]',
        'true',
        '0',
        '-1',
        '1e309',
        '""',
        '[[]]',
        '{"__proto__":{"admin":true}}',
      ]);
  }
}

function registrationBody(
  r: Random,
  ctx: FuzzContext,
): { body: Buffer | string; type: string | undefined } {
  const roll = r.int(0, 19);
  if (roll < 2) return { body: notJson(r), type: contentType(r, 'application/json') };
  if (roll < 6) {
    // Deep nesting: the whole body, or one field of metadata that is otherwise plainly valid, so
    // that the depth (not another mistake) is what the server has to deal with.
    const deep = deepJson(r, r.chance(0.7) ? r.pick([4_000, 6_000, 10_000]) : nestingDepth(r));
    const plain: Array<[string, string]> = [
      ['client_name', '"fuzz client"'],
      ['redirect_uris', JSON.stringify([ctx.redirectUri])],
    ];
    const field = r.chance(0.6) ? r.pick(EXTENSIONS) : r.pick(FIELDS);
    const body = r.chance(0.3) ? deep : duplicateKeys([...plain, [field, deep]]);
    return { body, type: 'application/json' };
  }
  const entries = validMetadata(r, ctx);
  // Often none or one, so that enough registrations succeed and what follows them runs too.
  const mutations = r.weighted([
    [0, 3],
    [1, 4],
    [2, 2],
    [3, 1],
    [4, 1],
  ]);
  for (let i = 0; i < mutations; i++) {
    const field = fieldName(r);
    const value = mutatedField(r, ctx, field);
    const at = entries.findIndex(([key]) => key === field);
    // Keep the first occurrence sometimes: a duplicate key is a mutation of its own.
    if (at >= 0 && r.chance(0.6)) entries[at] = [field, value];
    else entries.push([field, value]);
  }
  if (r.chance(0.1)) entries.push([r.pick(NASTY_STRINGS), jsonValue(r, 2)]);
  let text = duplicateKeys(entries);
  if (r.chance(0.05)) text = `${text}${r.pick(['x', ',', '}', ' ', '\u0000'])}`;
  if (r.chance(0.02))
    text = `{"client_name":${JSON.stringify('x'.repeat(r.pick([70_000, 2_000_000])))},"redirect_uris":${JSON.stringify([ctx.redirectUri])}}`;
  return { body: text, type: contentType(r, 'application/json') };
}

export function registration(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const { body, type } = registrationBody(r, ctx);
  const headers: Array<[string, string]> = [];
  if (type !== undefined) headers.push(['Content-Type', type]);
  if (r.chance(0.1))
    headers.push([
      'Authorization',
      r.pick([
        `Bearer ${ctx.client.registrationAccessToken}`,
        'Bearer initial-access-token',
        `Bearer ${ctx.accessToken}`,
        'Basic Og==',
      ]),
    ]);
  if (r.chance(0.05))
    headers.push([
      'Origin',
      r.pick(['http://localhost:6274', 'null', 'https://origin.fuzz.invalid']),
    ]);
  const method = r.weighted<string>([
    ['POST', 20],
    ['GET', 1],
    ['PUT', 1],
    ['OPTIONS', 1],
    ['HEAD', 1],
    ['PATCH', 1],
  ]);
  const target = r.weighted<string>([
    ['/reg', 40],
    ['/reg/', 1],
    ['/reg?x=1', 1],
    ['//reg', 1],
    ['/REG', 1],
    ['/reg%00', 1],
    ['/reg/..', 1],
  ]);
  return finish(r, ctx, index, {
    app: 'auth',
    method,
    target,
    route: '/reg',
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
  });
}

export function registrationManagement(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const method = r.weighted<string>([
    ['GET', 5],
    ['PUT', 4],
    ['DELETE', 2],
    ['POST', 1],
    ['PATCH', 1],
    ['OPTIONS', 1],
  ]);
  // Only the managed client may be changed or deleted with its real token: the primary client's
  // tokens are crossed or mangled for those, so its grant survives for the rest of the run.
  const target = r.weighted<'managed' | 'primary' | 'other'>([
    ['managed', 5],
    ['primary', 3],
    ['other', 2],
  ]);
  const client = target === 'primary' ? ctx.client : ctx.managedClient;
  const id =
    target === 'other'
      ? r.pick([
          'unknown-client',
          '',
          '..',
          '%2e%2e',
          encode(nastyString(r, 300)),
          'x'.repeat(r.pick([100, 5_000])),
          ctx.confidential.id,
          '%00',
          `${ctx.client.id}%00`,
        ])
      : client.id;
  const mayUseRealToken = target !== 'primary' || method === 'GET';
  const token = r.weighted<string>([
    [client.registrationAccessToken, mayUseRealToken ? 5 : 0],
    [mangledToken(r, client.registrationAccessToken), 3],
    [
      target === 'primary'
        ? ctx.managedClient.registrationAccessToken
        : ctx.client.registrationAccessToken,
      2,
    ],
    [ctx.accessToken, 1],
    ['', 1],
  ]);
  const headers: Array<[string, string]> = [];
  const scheme = r.pick(['Bearer', 'Bearer', 'Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', '']);
  if (r.chance(0.9)) headers.push(['Authorization', `${scheme} ${token}`.trim()]);
  let body: string | Buffer | undefined;
  if (method === 'PUT' || method === 'POST' || method === 'PATCH') {
    const { body: generated, type } = registrationBody(r, ctx);
    // A PUT must repeat client_id; give it the right one often enough to reach the update.
    body =
      r.chance(0.5) && typeof generated === 'string' && generated.startsWith('{')
        ? `{"client_id":${JSON.stringify(r.chance(0.8) ? client.id : 'other-id')},${generated.slice(1)}`
        : generated;
    if (type !== undefined) headers.push(['Content-Type', type]);
  }
  const path = r.pick([
    `/reg/${id}`,
    `/reg/${id}`,
    `/reg/${id}/`,
    `/reg/${id}?client_id=${id}`,
    `/reg/${id}/extra`,
  ]);
  return finish(r, ctx, index, {
    app: 'auth',
    method,
    target: path,
    route: '/reg/:id',
    headers,
    body,
  });
}
