import type { PlannedRequest } from '../plan.js';
import type { Random } from '../random.js';
import type { FuzzContext } from './context.js';
import { finish } from './envelope.js';
import {
  contentType,
  deepJson,
  forgedJwt,
  headerSafe,
  jsonScalar,
  jsonValue,
  mangledToken,
  mixedString,
  nastyString,
  nestingDepth,
} from './values.js';

/**
 * The MCP endpoint with the valid access token (mostly): JSON-RPC that is nested thousands of
 * levels deep, batched, of the wrong types, with huge ids and unknown methods; and the HTTP
 * around it (methods, Authorization, DPoP, Mcp-Session-Id, Mcp-Protocol-Version, Origin,
 * Content-Encoding, Content-Type) mangled.
 */

const TOOLS = ['add_numbers', 'multiply_numbers', 'whoami', 'server_status'];

const METHODS = [
  'initialize',
  'notifications/initialized',
  'ping',
  'tools/list',
  'tools/call',
  'tools/call',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'notifications/cancelled',
  'notifications/progress',
  'sampling/createMessage',
  'unknown/method',
  '',
  'rpc.discover',
  '__proto__',
  'tools/call\u0000',
];

function idOf(r: Random): string {
  return r.weighted<string>([
    ['1', 6],
    [String(r.int(2, 1_000_000)), 2],
    ['"abc"', 1],
    [jsonScalar(r), 2],
    ['{"a":1}', 1],
    ['[1]', 1],
    ['1e309', 1],
    ['-9223372036854775809', 1],
    [`"${'9'.repeat(r.pick([400, 70_000]))}"`, 1],
    ['9'.repeat(r.pick([400, 20_000])), 1],
  ]);
}

function argumentsOf(r: Random, tool: string): string {
  const roll = r.int(0, 9);
  if (roll < 3) {
    if (tool === 'add_numbers') return `{"a":${r.int(-100, 100)},"b":${r.int(-100, 100)}}`;
    if (tool === 'multiply_numbers') return `{"x":${r.int(-100, 100)},"y":${r.int(-100, 100)}}`;
    return '{}';
  }
  if (roll < 5) return `{"a":${deepJson(r, nestingDepth(r))},"b":1}`;
  if (roll < 6)
    return `{"a":${jsonScalar(r)},"b":${jsonScalar(r)},"x":${jsonScalar(r)},"y":${jsonScalar(r)}}`;
  if (roll < 7)
    return r.pick([
      'null',
      '[]',
      '"string"',
      '1',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
    ]);
  return jsonValue(r, 4);
}

function paramsOf(r: Random, method: string): string | undefined {
  const roll = r.int(0, 9);
  if (roll === 0) return undefined;
  if (roll === 1) return deepJson(r, nestingDepth(r));
  if (roll === 2) return jsonValue(r, 3);
  if (method === 'tools/call') {
    const tool = r.weighted<string>([
      [r.pick(TOOLS), 8],
      ['unknown_tool', 1],
      [nastyString(r, 5_000), 1],
    ]);
    const meta = r.chance(0.15)
      ? `,"_meta":${r.chance(0.5) ? deepJson(r, nestingDepth(r)) : '{"progressToken":1}'}`
      : '';
    return `{"name":${JSON.stringify(tool)},"arguments":${argumentsOf(r, tool)}${meta}}`;
  }
  if (method === 'initialize')
    return `{"protocolVersion":${JSON.stringify(r.pick(['2025-06-18', '2025-03-26', '2024-11-05', '2099-01-01', '', 'x']))},"capabilities":${r.chance(0.8) ? '{}' : jsonValue(r, 3)},"clientInfo":{"name":${JSON.stringify(nastyString(r, 3_000))},"version":"1"}}`;
  if (method === 'logging/setLevel')
    return `{"level":${JSON.stringify(r.pick(['debug', 'emergency', 'x', '']))}}`;
  if (method === 'resources/read')
    return `{"uri":${JSON.stringify(r.pick(['file:///etc/passwd', 'http://127.0.0.1:1/', '', nastyString(r, 1_000)]))}}`;
  return '{}';
}

function message(r: Random): string {
  const method = r.pick(METHODS);
  const parts: string[] = [];
  const jsonrpc = r.weighted<string | undefined>([
    ['"2.0"', 12],
    [undefined, 1],
    ['"1.0"', 1],
    ['2', 1],
    ['null', 1],
  ]);
  if (jsonrpc !== undefined) parts.push(`"jsonrpc":${jsonrpc}`);
  if (!method.startsWith('notifications/') || r.chance(0.2)) parts.push(`"id":${idOf(r)}`);
  parts.push(`"method":${r.chance(0.95) ? JSON.stringify(method) : jsonScalar(r)}`);
  const params = paramsOf(r, method);
  if (params !== undefined) parts.push(`"params":${params}`);
  if (r.chance(0.05))
    parts.push(`"result":${jsonValue(r, 2)}`, `"error":{"code":${jsonScalar(r)},"message":"x"}`);
  if (r.chance(0.05)) parts.push(`"method":"tools/list"`);
  return `{${r.sample(parts, parts.length).join(',')}}`;
}

function bodyOf(r: Random): Buffer | string {
  const roll = r.int(0, 199);
  if (roll < 120) return message(r);
  if (roll < 145) {
    const count = r.weighted([
      [0, 1],
      [1, 2],
      [2, 3],
      [5, 2],
      [50, 1],
      [1_000, 1],
    ]);
    return `[${Array.from({ length: count }, () => message(r)).join(',')}]`;
  }
  if (roll < 160) return deepJson(r, nestingDepth(r));
  if (roll < 175)
    return r.pick([
      '',
      '{',
      'null',
      '[]',
      '[[]]',
      '"x"',
      '1',
      '{"jsonrpc":"2.0"}',
      '{}',
      '\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}',
      '{"jsonrpc":"2.0","id":1,"method":"ping"}garbage',
    ]);
  if (roll < 183) return r.bytes(r.int(1, 3_000));
  if (roll < 190) return Buffer.from(message(r), 'utf16le');
  if (roll < 199)
    return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"x":${JSON.stringify('x'.repeat(r.chance(0.9) ? 100_000 : 1_000_000))}}}}`;
  // Over the 4 MiB limit (rarely: each is megabytes on the loopback).
  return r.chance(0.5)
    ? `{"x":"${'x'.repeat(4 * 1024 * 1024 + 10)}"}`
    : `[${'1,'.repeat(2_200_000)}1]`;
}

function authorization(r: Random, ctx: FuzzContext): string | undefined {
  return r.weighted<string | undefined>([
    [`Bearer ${ctx.accessToken}`, 30],
    [undefined, 2],
    [`bearer ${ctx.accessToken}`, 1],
    [`Bearer  ${ctx.accessToken}`, 1],
    [`Bearer ${ctx.accessToken} `, 1],
    [`Bearer ${mangledToken(r, ctx.accessToken)}`, 4],
    [`Bearer ${ctx.opaqueAccessToken}`, 1],
    [`Bearer ${ctx.refreshToken}`, 1],
    [`DPoP ${ctx.accessToken}`, 2],
    [`Basic ${Buffer.from(`x:${ctx.accessToken}`).toString('base64')}`, 1],
    ['Bearer', 1],
    ['Bearer ', 1],
    [`Bearer ${ctx.accessToken}, Bearer other`, 1],
    [
      `Bearer ${forgedJwt(r, { iss: ctx.issuer, aud: ctx.mcpUrl, sub: 'alice', scope: 'mcp:tools mcp:admin', exp: 9_999_999_999 })}`,
      2,
    ],
    [`Bearer ${headerSafe(mixedString(r, 40))}`, 1],
    [`Bearer ${'A'.repeat(r.pick([8_000, 15_000]))}`, 1],
    [`Negotiate ${r.alnum(40)}`, 1],
  ]);
}

function mcpHeaders(r: Random, ctx: FuzzContext, withBody: boolean): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (r.chance(0.12)) {
    // The DPoP-bound token with a proof of its key: fresh, replayed, wrong in a claim, or none.
    const bound = ctx.dpopBound;
    headers.push([
      'Authorization',
      `${r.pick(['DPoP', 'DPoP', 'DPoP', 'Bearer', 'dpop'])} ${bound.accessToken}`,
    ]);
    const proof = r.weighted<string | undefined>([
      [r.pick(bound.proofs), 6],
      [r.pick(bound.badProofs), 3],
      [undefined, 1],
      [mangledToken(r, r.pick(bound.proofs)), 1],
    ]);
    if (proof !== undefined) headers.push(['DPoP', proof]);
  } else {
    const auth = authorization(r, ctx);
    if (auth !== undefined) headers.push(['Authorization', auth]);
  }
  if (r.chance(0.04))
    headers.push(['Authorization', `Bearer ${r.chance(0.5) ? ctx.accessToken : 'second'}`]);
  if (withBody) {
    // Mostly right: the SDK's handling of the message is what most of these requests are for.
    const type = contentType(r, 'application/json', 0.8);
    if (type !== undefined) headers.push(['Content-Type', type]);
  }
  headers.push([
    'Accept',
    r.weighted<string>([
      ['application/json, text/event-stream', 12],
      ['application/json', 2],
      ['text/event-stream', 2],
      ['*/*', 1],
      ['', 1],
      ['text/html', 1],
    ]),
  ]);
  if (r.chance(0.85))
    headers.push([
      'Mcp-Protocol-Version',
      r.weighted<string>([
        ['2025-06-18', 20],
        ['2025-03-26', 2],
        ['2024-11-05', 1],
        ['2099-01-01', 1],
        ['', 1],
        ['garbage', 1],
        [headerSafe(nastyString(r, 4_000)), 1],
      ]),
    ]);
  if (r.chance(0.12))
    headers.push([
      'Mcp-Session-Id',
      r.pick([
        r.alnum(32),
        '',
        'x'.repeat(10_000),
        headerSafe(mixedString(r, 30)),
        '\u00ff\u00fe',
        '../../x',
        'a b c',
      ]),
    ]);
  if (r.chance(0.1))
    headers.push([
      'DPoP',
      r.chance(0.6)
        ? r.pick(ctx.dpopProofs.mcp)
        : r.pick(['', 'garbage', forgedJwt(r, { htm: 'POST', htu: ctx.mcpUrl, iat: 1 }), 'a.b.c']),
    ]);
  if (r.chance(0.03)) headers.push(['DPoP', r.pick(ctx.dpopProofs.mcp)]);
  if (r.chance(0.1))
    headers.push([
      'Origin',
      r.pick([
        'http://127.1:1',
        'http://localhost:6274',
        'http://127.0.0.1:6274',
        'http://[::1]:1',
        'null',
        'http://LOCALHOST:1',
        'http://0x7f.1:1',
        'https://origin.fuzz.invalid',
        'http://localhost:1/path',
        'file://',
        'http://localhost:*',
        headerSafe(nastyString(r, 2_000)),
      ]),
    ]);
  if (withBody && r.chance(0.04))
    headers.push([
      'Content-Encoding',
      r.pick(['gzip', 'br', 'deflate', 'identity', 'gzip, identity', 'x-unknown']),
    ]);
  if (r.chance(0.03)) headers.push(['Last-Event-ID', r.pick(['1', '', 'x'.repeat(5_000)])]);
  return headers;
}

export function mcpPost(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const target = r.weighted<string>([
    ['/mcp', 80],
    ['/mcp?x=1', 1],
    ['/mcp/', 1],
    ['/MCP', 1],
    ['//mcp', 1],
    ['/mcp/../mcp', 1],
    ['/mcp%00', 1],
    ['/mcp#frag', 1],
  ]);
  return finish(r, ctx, index, {
    app: 'mcp',
    method: 'POST',
    target,
    route: '/mcp',
    headers: mcpHeaders(r, ctx, true),
    body: bodyOf(r),
  });
}

export function mcpMethods(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const method = r.weighted<string>([
    ['GET', 4],
    ['DELETE', 3],
    ['OPTIONS', 3],
    ['HEAD', 1],
    ['TRACE', 2],
    ['PATCH', 2],
    ['PUT', 2],
    ['PROPFIND', 1],
    ['SEARCH', 1],
    ['QUERY', 1],
    ['LINK', 1],
    ['PURGE', 1],
    ['FOO', 1],
    ['post', 1],
    ['G ET', 1],
    ['M-SEARCH', 1],
  ]);
  const withBody = !['GET', 'HEAD', 'OPTIONS'].includes(method) && r.chance(0.6);
  const headers = mcpHeaders(r, ctx, withBody);
  if (method === 'OPTIONS' && r.chance(0.7)) {
    headers.push([
      'Origin',
      r.pick(['http://localhost:6274', 'http://127.1:1', 'null', 'https://origin.fuzz.invalid']),
    ]);
    headers.push(['Access-Control-Request-Method', r.pick(['POST', 'GET', 'DELETE', 'TRACE', ''])]);
    headers.push([
      'Access-Control-Request-Headers',
      r.pick(['authorization, content-type', 'x-evil', '', 'a,'.repeat(1_000)]),
    ]);
  }
  return finish(r, ctx, index, {
    app: 'mcp',
    method,
    target: '/mcp',
    route: '/mcp',
    headers,
    body: withBody ? bodyOf(r) : undefined,
  });
}
