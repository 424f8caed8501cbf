import type { Random } from '../random.js';

/**
 * Hostile values shared by every generator: strings that break parsers, loggers and HTML, JSON
 * that is nested, duplicated or not JSON at all, and the usual ways tokens and Basic credentials
 * get mangled. URLs in here point only at loopback port 1 or at names that are never looked up: the
 * servers must not be led to contact anything outside this machine.
 */

const CONTROL = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\u000b',
  '\u000c',
  '\u001b',
  '\u007f',
];
const UNICODE = [
  '\u0085',
  '\u00a0',
  '\u200b',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '\ud800',
  '\udfff',
  '😀',
  '👩‍👩‍👧‍👦',
  'é',
  'e\u0301',
  'ﬃ',
  'İ',
  'ß',
  'Ω',
  '中文',
  'عربي',
  'а', // Cyrillic a
  '\u0130',
];

export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '  leading and trailing  ',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e309',
  'NaN',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' OR '1'='1",
  '"; DROP TABLE clients; --',
  '%s%s%s%n',
  '#{7*7}',
  '{{7*7}}',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '%0d%0aSet-Cookie:%20x=y',
  '%',
  '%zz',
  '%c0%ae%c0%ae/',
  '\\u0000',
  'a\u0000b',
  'line\r\nInjected: header',
  '\u202egnp.exe',
  'http://127.0.0.1:1/',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  '\ud800',
  '😀'.repeat(50),
  'A'.repeat(256),
  ...CONTROL,
  ...UNICODE,
];

/** A string mixing printable, control and unusual characters, `length` code units long. */
export function mixedString(r: Random, length: number): string {
  let out = '';
  while (out.length < length) {
    const roll = r.int(0, 9);
    if (roll < 5) out += String.fromCharCode(r.int(0x20, 0x7e));
    else if (roll < 7) out += r.pick(CONTROL);
    else if (roll < 9) out += r.pick(UNICODE);
    else out += String.fromCharCode(r.int(0, 0xffff));
  }
  return out.slice(0, length);
}

/** A nasty string: from the list, mixed, or long (up to `maxLength`). */
export function nastyString(r: Random, maxLength = 70_000): string {
  const roll = r.int(0, 9);
  if (roll < 5) return r.pick(NASTY_STRINGS);
  if (roll < 8) return mixedString(r, r.int(1, 64));
  const length = r.pick([1_000, 4_096, 16_385, 65_536, maxLength].filter((n) => n <= maxLength));
  return r.chance(0.5) ? 'A'.repeat(length) : mixedString(r, length);
}

/** A string with no character that would break a header line (CR, LF, NUL), for header values. */
export function headerSafe(value: string): string {
  return value.replace(/[\r\n\0]/g, '');
}

/** Nesting `depth` levels deep, as JSON text: arrays, objects or both alternating. */
export function deepJson(r: Random, depth: number): string {
  const shape = r.int(0, 3);
  if (shape === 0) return `${'['.repeat(depth)}${']'.repeat(depth)}`;
  if (shape === 1) return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  if (shape === 2) return `${'[{"x":'.repeat(depth)}null${'}]'.repeat(depth)}`;
  // Unclosed: a parser must fail on the end, not on the depth first.
  return '['.repeat(depth);
}

/** A nesting depth: mostly the thousands the brief asks for, sometimes shallow or deeper still. */
export function nestingDepth(r: Random): number {
  return r.pick([32, 200, 1_000, 2_500, 4_000, 5_000, 6_000, 6_000, 10_000]);
}

/** A JSON scalar as text, including the ones JavaScript cannot represent exactly. */
export function jsonScalar(r: Random): string {
  return r.pick([
    'null',
    'true',
    'false',
    '0',
    '-0',
    '1',
    '-1',
    '1.5',
    '1e309',
    '-1e309',
    '1e-400',
    '9007199254740993',
    '123456789012345678901234567890123456789',
    '0.1e1',
    '""',
    JSON.stringify(nastyString(r, 4_096)),
  ]);
}

/** Random JSON text up to `depth` levels. */
export function jsonValue(r: Random, depth = 3): string {
  const roll = r.int(0, 9);
  if (depth <= 0 || roll < 5) return jsonScalar(r);
  if (roll < 7) {
    const items = Array.from({ length: r.int(0, 4) }, () => jsonValue(r, depth - 1));
    return `[${items.join(',')}]`;
  }
  if (roll < 9) {
    const entries = Array.from(
      { length: r.int(0, 4) },
      () =>
        `${JSON.stringify(r.chance(0.3) ? r.pick(NASTY_STRINGS) : r.alnum(5))}:${jsonValue(r, depth - 1)}`,
    );
    return `{${entries.join(',')}}`;
  }
  return deepJson(r, r.int(10, 100));
}

/** Bodies that are not the JSON they claim to be. */
export function notJson(r: Random): Buffer {
  const text = r.pick([
    '',
    ' ',
    '{',
    '}',
    '[1,]',
    '{"a":1,}',
    "{'a':1}",
    '{a:1}',
    'NaN',
    'undefined',
    '{"a":1}garbage',
    '{"a":1}{"b":2}',
    '// comment\n{}',
    '\ufeff{}',
    '{"a":"\\ud800"}',
    '{"a":"\\x41"}',
    '{"a":01}',
    '"just a string"',
    '12345',
    'null',
    '[]',
    'client_name=x&redirect_uris=y',
    '<?xml version="1.0"?><a/>',
    '{"a":"unterminated',
  ]);
  const roll = r.int(0, 5);
  if (roll === 0) return r.bytes(r.int(1, 2_000));
  if (roll === 1) return Buffer.from(text, 'utf16le');
  if (roll === 2)
    return Buffer.concat([
      Buffer.from('{"a":"', 'latin1'),
      Buffer.from([0xff, 0xfe, 0xc0, 0x80]),
      Buffer.from('"}'),
    ]);
  return Buffer.from(text, 'utf8');
}

/** A JSON object with a key repeated: which value wins differs between parsers. */
export function duplicateKeys(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

/** Content-Type values: the right one (`right`, `rightShare` of the time), or wrong or malformed. */
export function contentType(r: Random, right: string, rightShare = 0.55): string | undefined {
  if (r.chance(rightShare)) return right;
  return r.pick([
    undefined,
    '',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/json; charset=bogus-charset',
    'application/json; charset="utf-8"',
    'APPLICATION/JSON',
    'application/jsonx',
    'application/json, text/plain',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=iso-8859-1',
    'multipart/form-data; boundary=----x',
    'multipart/form-data',
    'text/plain',
    'text/html',
    'application/xml',
    'application/jwt',
    'application/octet-stream',
    '*/*',
    'application/*',
    ';',
    'application/json;;;',
    'application/vnd.api+json',
    `application/json; ${'x=1;'.repeat(500)}`,
  ]);
}

/** A loopback URL on port 1 (nothing listens there) or a malformed one, for URL-valued fields. */
export function hostileUrl(r: Random, marker: string): string {
  return r.pick([
    'http://127.0.0.1:1/cb',
    'https://127.0.0.1:1/cb',
    'http://localhost:1/cb',
    'http://[::1]:1/cb',
    'http://127.0.0.1:1/cb#fragment',
    'http://127.0.0.1:1/cb?x=1&x=2',
    'http://127.0.0.1:1/cb/../../admin',
    'http://user:pass@127.0.0.1:1/cb',
    'http://127.0.0.1:1/c b',
    'http://127.0.0.1:1/\u0000',
    'http://127.0.0.1:1/%00',
    'http://127.0.0.1:1/\r\nSet-Cookie: x=y',
    'http://127.0.0.1:1/\u202e',
    'http://127.1:1/cb',
    'http://0x7f.1:1/cb',
    'http://2130706433:1/cb',
    `https://${marker}/cb`,
    `https://${marker}:443/cb`,
    'javascript:alert(1)',
    'data:text/html,x',
    'file:///etc/passwd',
    'com.example.app:/callback',
    'com.example.app://callback',
    'urn:ietf:wg:oauth:2.0:oob',
    '/relative/path',
    '//127.0.0.1:1/cb',
    'http:/127.0.0.1:1/cb',
    'http://',
    'http://:1/',
    'http://127.0.0.1:99999/cb',
    'HTTP://LOCALHOST:1/CB',
    `http://127.0.0.1:1/${'a'.repeat(r.pick([100, 5_000, 70_000]))}`,
    `http://127.0.0.1:1/${mixedString(r, 20)}`,
    '',
  ]);
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/** A JWT-shaped string without a valid signature (alg none, HS256 with a guessable key, junk). */
export function forgedJwt(r: Random, claims: Record<string, unknown>): string {
  const header = r.pick<Record<string, unknown>>([
    { alg: 'none', typ: 'at+jwt' },
    { alg: 'HS256', typ: 'at+jwt' },
    { alg: 'RS256', typ: 'at+jwt', kid: '../../etc/passwd' },
    { alg: 'RS256', kid: 'x'.repeat(5_000) },
    { alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } },
    { alg: 'RS256', jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/x5u' },
    { alg: 'RS256', crit: ['exp'], typ: 'JWT' },
    { alg: 'PS256', b64: false },
  ]);
  const payload = r.chance(0.15)
    ? `{"deep":${deepJson(r, nestingDepth(r))}}`
    : JSON.stringify(claims);
  const signature = r.pick(['', 'AAAA', r.alnum(43), r.alnum(342)]);
  return `${b64(JSON.stringify(header))}.${Buffer.from(payload).toString('base64url')}.${signature}`;
}

/**
 * A mangled form of a valid token. Each result differs from `token` in a character that matters
 * (never only in case of the scheme or in whitespace), so it can never act as the real token:
 * the fuzz must not revoke or spend the tokens it reuses with a variant that still works.
 */
export function mangledToken(r: Random, token: string): string {
  const flip = (value: string, at: number) => {
    const c = value[at] ?? 'A';
    const replacement = c === 'A' ? 'B' : 'A';
    return `${value.slice(0, at)}${replacement}${value.slice(at + 1)}`;
  };
  switch (r.int(0, 13)) {
    case 0:
      return token.slice(0, -1);
    case 1:
      return token.slice(0, r.int(0, token.length - 1));
    case 2:
      return `${token}x`;
    case 3:
      return flip(token, r.int(0, token.length - 1));
    case 4:
      return flip(token, token.length - 1);
    case 5:
      return `${token}.${token}`;
    case 6:
      return token.split('.').slice(0, 2).join('.');
    case 7:
      return `${token.split('.').slice(0, 2).join('.')}.`;
    case 8:
      return token.replace(/[A-Za-z]/, (c) =>
        c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase(),
      );
    case 9:
      return `${token}${'A'.repeat(r.pick([100, 8_000, 20_000]))}`;
    case 10:
      return BASE64URL.test(token) ? `${token}=` : `${token}%00`;
    case 11:
      return `${token.slice(0, 10)}\u00e9${token.slice(11)}`;
    case 12:
      return forgedJwt(r, { sub: 'alice', aud: 'http://localhost/mcp', exp: 9_999_999_999 });
    default:
      return r.alnum(r.int(1, 64));
  }
}

/** An Authorization: Basic value, correct (`right`), mangled or malformed. */
export function basicAuth(r: Random, id: string, secret: string, right: boolean): string {
  if (right)
    return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const encode = (value: string) => Buffer.from(value, 'utf8').toString('base64');
  return r.pick([
    'Basic',
    'Basic ',
    'Basic =',
    'Basic !!!!',
    `Basic ${encode(id)}`,
    `Basic ${encode(`${id}:`)}`,
    `Basic ${encode(`:${secret}`)}`,
    `Basic ${encode(`${id}:${secret}x`)}`,
    `Basic ${encode(`${id}:${secret.slice(0, -1)}`)}`,
    `Basic ${encode(`${id}x:${secret}`)}`,
    `Basic ${encode(`${id}:${secret}:extra`)}`,
    `Basic ${encode(`%zz:${secret}`)}`,
    `Basic ${encode(`${id}:%`)}`,
    `Basic ${encode(`${'a'.repeat(10_000)}:${secret}`)}`,
    `Basic ${encode('\u0000:\u0000')}`,
    `Basic ${encode('é:ü')}`,
    `Basic ${encode(`${id}:${secret}`).replace(/=+$/, '')}x`,
    `basic ${encode(`${id}:wrong-secret-value`)}`,
    `Basic  ${encode(`${id}:wrong-secret-value`)}`,
    `Bearer ${encode(`${id}:${secret}x`)}`,
    `Digest username="${id}"`,
    `Basic ${encode(`${id}:wrong`)}, Basic ${encode(`${id}:other`)}`,
  ]);
}

/** Scope strings: valid ones among unknown, duplicated and malformed. */
export function scopeValue(r: Random): string {
  return r.pick([
    'mcp:tools',
    'mcp:tools',
    'mcp:tools mcp:admin',
    'mcp:admin',
    'openid',
    'openid offline_access',
    'offline_access mcp:tools',
    'profile',
    'api:read',
    'mcp:tools mcp:tools',
    'mcp:tools\tmcp:admin',
    'mcp:tools  mcp:admin',
    ' mcp:tools ',
    'MCP:TOOLS',
    'unknown:scope',
    '',
    'mcp:tools"',
    'mcp:tools\\',
    `${'mcp:tools '.repeat(2_000)}`,
    mixedString(r, 20),
  ]);
}

/**
 * `encodeURIComponent` that also takes lone surrogates (which it throws on): those are sent as the
 * UTF-8 of U+FFFD, the way a browser would.
 */
export function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(
      value.replace(
        /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
        '\ufffd',
      ),
    );
  }
}
