import { foreignHost } from '../checks.js';
import type { AppName, PlannedRequest } from '../plan.js';
import type { Random } from '../random.js';
import type { FuzzContext } from './context.js';
import { portOf } from './envelope.js';

/**
 * HTTP that no client library would send, byte for byte on a connection of its own:
 * absolute- and asterisk-form targets, missing, repeated and malformed Host, broken chunked
 * framing, conflicting Content-Length, oversized lines, bare LF, NUL bytes, other HTTP versions,
 * pipelining, CONNECT and Upgrade, and requests cut off half way.
 */

interface RawCase {
  readonly name: string;
  readonly bytes: Buffer;
  readonly methods: readonly string[];
  /** The request is incomplete: the server may close without answering. */
  readonly truncated?: boolean;
  readonly foreignHosts?: readonly string[];
}

const crlf = (lines: readonly string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const bytes = (text: string) => Buffer.from(text, 'latin1');

function validPaths(app: AppName): readonly string[] {
  return app === 'auth'
    ? [
        '/healthz',
        '/.well-known/oauth-authorization-server',
        '/.well-known/openid-configuration',
        '/jwks',
        '/reg',
        '/token',
        '/auth',
      ]
    : ['/healthz', '/.well-known/oauth-protected-resource/mcp', '/mcp'];
}

/** A complete, valid request (a tool call with the real token on /mcp), as lines and body. */
function validRequest(
  r: Random,
  ctx: FuzzContext,
  app: AppName,
  host: string,
): { method: string; path: string; lines: string[]; body: string } {
  if (app === 'mcp' && r.chance(0.6)) {
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_numbers","arguments":{"a":2,"b":3}}}`;
    return {
      method: 'POST',
      path: '/mcp',
      lines: [
        `Host: ${host}`,
        `Authorization: Bearer ${ctx.accessToken}`,
        'Content-Type: application/json',
        'Accept: application/json, text/event-stream',
        'Mcp-Protocol-Version: 2025-06-18',
        `Content-Length: ${Buffer.byteLength(body)}`,
      ],
      body,
    };
  }
  if (app === 'auth' && r.chance(0.3)) {
    const body = JSON.stringify({ client_name: 'raw', redirect_uris: [ctx.redirectUri] });
    return {
      method: 'POST',
      path: '/reg',
      lines: [`Host: ${host}`, 'Content-Type: application/json', `Content-Length: ${body.length}`],
      body,
    };
  }
  const path = r.pick(
    validPaths(app).filter((p) => p !== '/mcp' && p !== '/reg' && p !== '/token'),
  );
  return { method: 'GET', path, lines: [`Host: ${host}`], body: '' };
}

function rawCase(r: Random, ctx: FuzzContext, app: AppName): RawCase {
  const port = portOf(ctx, app);
  const host = `localhost:${port}`;
  const evil = foreignHost(ctx.seed, 1);
  const valid = validRequest(r, ctx, app, host);
  const one = (
    name: string,
    requestLine: string,
    lines: readonly string[],
    body = '',
    method = valid.method,
  ): RawCase => ({
    name,
    bytes: bytes(`${crlf([requestLine, ...lines])}${body}`),
    methods: [method],
  });
  switch (r.int(0, 29)) {
    case 0:
      return one(
        'absolute-form',
        `${valid.method} http://${host}${valid.path} HTTP/1.1`,
        valid.lines,
        valid.body,
      );
    case 1: {
      const target = r.pick([
        `http://${evil}:${port}${valid.path}`,
        `http://${evil}${valid.path}`,
        `https://${evil}/.well-known/oauth-authorization-server`,
        `http://${evil}:${port}/.well-known/openid-configuration`,
        `http://${evil}:${port}/.well-known/oauth-protected-resource/mcp`,
      ]);
      return {
        ...one('absolute-form foreign', `GET ${target} HTTP/1.1`, [`Host: ${host}`]),
        foreignHosts: [evil],
        methods: ['GET'],
      };
    }
    case 2: {
      const target = r.pick([
        `http://${host}`,
        `HTTP://LOCALHOST:${port}${valid.path}`,
        `http://user:pw@${host}${valid.path}`,
        `https://${host}${valid.path}`,
        `http:///${valid.path}`,
        `//${host}${valid.path}`,
        `http://${host}:${port}${valid.path}`,
        `ftp://${host}${valid.path}`,
        'mcp',
        `http://[::1]:${port}${valid.path}`,
        `http://127.0.0.1:${port}${valid.path}`,
      ]);
      return one(
        'absolute-form odd',
        `${valid.method} ${target} HTTP/1.1`,
        valid.lines,
        valid.body,
      );
    }
    case 3: {
      const method = r.pick(['OPTIONS', 'OPTIONS', 'GET', 'POST', 'DELETE']);
      return one(
        'asterisk-form',
        `${method} * HTTP/1.1`,
        [`Host: ${host}`, ...(method === 'POST' ? ['Content-Length: 0'] : [])],
        '',
        method,
      );
    }
    case 4:
      return one(
        'no Host',
        `${valid.method} ${valid.path} HTTP/1.1`,
        valid.lines.filter((l) => !l.startsWith('Host:')),
        valid.body,
      );
    case 5: {
      const second = r.pick([host, `${evil}:${port}`, evil, '']);
      const c = one(
        'two Host headers',
        `${valid.method} ${valid.path} HTTP/1.1`,
        [...valid.lines, `Host: ${second}`],
        valid.body,
      );
      return second.includes(evil) ? { ...c, foreignHosts: [evil] } : c;
    }
    case 6: {
      const value = r.pick([
        `localhost:${port}.x`,
        evil,
        `${evil}:${port}`,
        '',
        ' ',
        `localhost:${port}\t`,
        `local host:${port}`,
        `localhost:${port}\u00ff`,
        `${host}/x`,
        `${host}?x`,
        `${host}#x`,
        `${host}\\x`,
        `[${host}]`,
      ]);
      const lines = valid.lines.map((l) => (l.startsWith('Host:') ? `Host: ${value}` : l));
      const c = one('bad Host', `${valid.method} ${valid.path} HTTP/1.1`, lines, valid.body);
      return value.includes(evil) || value.includes('.x')
        ? { ...c, foreignHosts: [value.includes(evil) ? evil : `localhost:${port}.x`] }
        : c;
    }
    case 7: {
      // Chunked framing that is wrong but complete (the server has everything it needs to refuse).
      const chunked = r.pick([
        'zz\r\nabc\r\n0\r\n\r\n',
        '3\r\nabcdef\r\n0\r\n\r\n',
        '-1\r\nx\r\n0\r\n\r\n',
        'ffffffffffffffffffff\r\nx\r\n0\r\n\r\n',
        `3;${'e'.repeat(20_000)}\r\nabc\r\n0\r\n\r\n`,
        '3\nabc\n0\n\n',
        '0\r\nTrailer: x\r\n\r\n',
        '3 \r\nabc\r\n0\r\n\r\n',
        '0x3\r\nabc\r\n0\r\n\r\n',
        '\r\n\r\n',
      ]);
      const te = r.pick([
        'chunked',
        'chunked',
        'Chunked',
        'chunked, chunked',
        'gzip, chunked',
        'chunked, gzip',
        'xchunked',
        ' chunked',
        'chunked\t',
        'identity, chunked',
      ]);
      return one(
        'bad chunked',
        `POST ${app === 'mcp' ? '/mcp' : r.pick(['/reg', '/token'])} HTTP/1.1`,
        [
          `Host: ${host}`,
          'Content-Type: application/json',
          ...(app === 'mcp' ? [`Authorization: Bearer ${ctx.accessToken}`] : []),
          `Transfer-Encoding: ${te}`,
        ],
        chunked,
        'POST',
      );
    }
    case 8: {
      const body = valid.body || '{}';
      const cl = r.pick([
        [`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`],
        [`Content-Length: ${body.length}, ${body.length}`],
        [`Content-Length: ${body.length}, 5`],
        ['Content-Length: -1'],
        ['Content-Length: 1e3'],
        ['Content-Length: 99999999999999999999'],
        ['Content-Length: +5'],
        ['Content-Length: 0x10'],
        [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'],
        ['Content-Length:'],
      ]);
      const lines = valid.lines.filter((l) => !/^Content-Length:/i.test(l));
      return one(
        'conflicting Content-Length',
        `POST ${valid.method === 'POST' ? valid.path : app === 'mcp' ? '/mcp' : '/reg'} HTTP/1.1`,
        [...lines, ...cl],
        body,
        'POST',
      );
    }
    case 9: {
      const size = r.pick([17_000, 70_000, 200_000]);
      return r.chance(0.5)
        ? one(
            'request line too long',
            `GET /${'a'.repeat(size)} HTTP/1.1`,
            [`Host: ${host}`],
            '',
            'GET',
          )
        : one(
            'header too long',
            `${valid.method} ${valid.path} HTTP/1.1`,
            [...valid.lines, `X-Long: ${'v'.repeat(size)}`],
            valid.body,
          );
    }
    case 10:
      return one(
        'too many headers',
        `${valid.method} ${valid.path} HTTP/1.1`,
        [
          ...valid.lines,
          ...Array.from({ length: r.pick([200, 2_100, 5_000]) }, (_, i) => `X-H${i}: ${i}`),
        ],
        valid.body,
      );
    case 11:
      return {
        name: 'bare LF',
        bytes: bytes(
          `${[`${valid.method} ${valid.path} HTTP/1.1`, ...valid.lines].join(r.pick(['\n', '\r\n']))}\n\n${valid.body}`,
        ),
        methods: [valid.method],
      };
    case 12: {
      const where = r.int(0, 3);
      const line =
        where === 0
          ? `GE\0T ${valid.path} HTTP/1.1`
          : where === 1
            ? `${valid.method} ${valid.path}\0 HTTP/1.1`
            : `${valid.method} ${valid.path} HTTP/1.1`;
      const extra = where === 2 ? ['X-Nul: a\0b'] : where === 3 ? ['X-\0Nul: b'] : [];
      return one('NUL byte', line, [...valid.lines, ...extra], valid.body);
    }
    case 13: {
      const version = r.pick([
        'HTTP/1.0',
        'HTTP/1.0',
        'HTTP/0.9',
        'HTTP/1.2',
        'HTTP/2.0',
        'HTTP/3',
        'http/1.1',
        'HTTP/1.1 x',
        'HTTP/11',
        'HTTP/1.10',
        'HTTPS/1.1',
        '',
      ]);
      const lines = r.chance(0.3)
        ? valid.lines.filter((l) => !l.startsWith('Host:'))
        : r.chance(0.3)
          ? [...valid.lines, 'Connection: keep-alive']
          : valid.lines;
      return one(
        `version ${version || '(none)'}`,
        `${valid.method} ${valid.path} ${version}`.trimEnd(),
        lines,
        valid.body,
      );
    }
    case 14: {
      const count = r.int(2, 6);
      const requests = Array.from({ length: count }, () => validRequest(r, ctx, app, host));
      const text = requests
        .map((q) => `${crlf([`${q.method} ${q.path} HTTP/1.1`, ...q.lines])}${q.body}`)
        .join('');
      return { name: 'pipelined', bytes: bytes(text), methods: requests.map((q) => q.method) };
    }
    case 15: {
      const first = validRequest(r, ctx, app, host);
      const junk = r.pick([
        'GARBAGE\r\n\r\n',
        'GET\r\n\r\n',
        '\0\0\0\0\r\n\r\n',
        `GET /x HTTP/1.1\r\nHost: ${host}\r\nContent-Length: x\r\n\r\n`,
      ]);
      return {
        name: 'pipelined with junk',
        bytes: bytes(
          `${crlf([`${first.method} ${first.path} HTTP/1.1`, ...first.lines])}${first.body}${junk}`,
        ),
        methods: [first.method, 'GET'],
      };
    }
    case 16: {
      // Cut off: in the request line, in the headers, or in the body.
      const lines = [
        ...valid.lines.filter((l) => !/^Content-Length:/i.test(l)),
        'Content-Length: 100',
      ];
      const full = `${crlf([`${valid.method} ${valid.path} HTTP/1.1`, ...lines])}${valid.body.slice(0, 10)}`;
      const cut = r.int(1, full.length - 1);
      return {
        name: 'truncated',
        bytes: bytes(full.slice(0, cut)),
        methods: [valid.method],
        truncated: true,
      };
    }
    case 17:
      return one(
        'CONNECT',
        `CONNECT ${r.pick([host, `${evil}:443`, '127.0.0.1:1', valid.path])} HTTP/1.1`,
        [`Host: ${host}`],
        '',
        'CONNECT',
      );
    case 18:
      return one(
        'Upgrade',
        `GET ${valid.path} HTTP/1.1`,
        [
          ...valid.lines.filter((l) => !/^Content-/i.test(l)),
          'Connection: Upgrade',
          r.pick([
            'Upgrade: websocket',
            'Upgrade: h2c',
            'Upgrade: TLS/1.2',
            'Upgrade: x'.repeat(10),
          ]),
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version: 13',
          'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
        ],
        '',
        'GET',
      );
    case 19:
      return {
        name: 'HTTP/2 preface',
        bytes: bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        methods: ['PRI'],
      };
    case 20: {
      const body = valid.body || '{}';
      return one(
        'Expect',
        `POST ${valid.method === 'POST' ? valid.path : '/token'} HTTP/1.1`,
        [
          ...valid.lines.filter((l) => !/^Content-Length/i.test(l)),
          `Content-Length: ${body.length}`,
          `Expect: ${r.pick(['100-continue', '100-Continue', 'nonsense', '100-continue, x'])}`,
        ],
        body,
        'POST',
      );
    }
    case 21:
      return one(
        'obs-fold',
        `${valid.method} ${valid.path} HTTP/1.1`,
        [...valid.lines, 'X-Folded: a', ' continued', '\tand more'],
        valid.body,
      );
    case 22: {
      const bad = r.pick([
        'NoColon',
        'Space Name: x',
        'Host : localhost',
        ': empty-name',
        'X-Tab\t: y',
        `${'N'.repeat(20_000)}: y`,
        'X-Ctl: \u0001\u007f',
        'X-High: \u00ff\u00fe',
        'X-Del\u007f: y',
      ]);
      return one(
        'malformed header',
        `${valid.method} ${valid.path} HTTP/1.1`,
        [...valid.lines, bad],
        valid.body,
      );
    }
    case 23:
      return {
        name: 'leading empty lines',
        bytes: bytes(
          `\r\n\r\n${crlf([`${valid.method} ${valid.path} HTTP/1.1`, ...valid.lines])}${valid.body}`,
        ),
        methods: [valid.method],
      };
    case 24:
      return one(
        'long method',
        `${'A'.repeat(r.pick([20, 100, 5_000]))} ${valid.path} HTTP/1.1`,
        [`Host: ${host}`],
        '',
        'GET',
      );
    case 25: {
      // CL.TE / TE.CL disagreement, with a second request hidden in the body.
      const hidden = `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
      const chunked = `0\r\n\r\n${hidden}`;
      return one(
        'smuggling',
        `POST ${app === 'mcp' ? '/mcp' : '/token'} HTTP/1.1`,
        [
          `Host: ${host}`,
          `Content-Length: ${r.pick([4, chunked.length])}`,
          'Transfer-Encoding: chunked',
        ],
        chunked,
        'POST',
      );
    }
    case 26: {
      // Body longer than Content-Length: the rest is read as the next request.
      const body = valid.body || '{}';
      const extra = r.pick([
        'garbage',
        `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
        '\r\n\r\n',
      ]);
      const lines = valid.lines.filter((l) => !/^Content-Length/i.test(l));
      return {
        ...one(
          'body longer than Content-Length',
          `POST ${valid.method === 'POST' ? valid.path : '/reg'} HTTP/1.1`,
          [...lines, `Content-Length: ${body.length}`],
          `${body}${extra}`,
          'POST',
        ),
        methods: ['POST'],
      };
    }
    case 27: {
      const target = r.pick([
        `${valid.path}?${'q=1&'.repeat(3_000)}`,
        `${valid.path}#fragment`,
        `${valid.path}?a=\u00ff\u00fe`,
        `${valid.path}/%`,
        `${valid.path}?%`,
        `${valid.path}\\..\\x`,
        `/%2F${valid.path.slice(1)}`,
        `${valid.path}?\u007f`,
        `/${'%41'.repeat(3_000)}`,
      ]);
      return one('odd target', `${valid.method} ${target} HTTP/1.1`, valid.lines, valid.body);
    }
    case 28:
      return one(
        'lowercase method',
        `${valid.method.toLowerCase()} ${valid.path} HTTP/1.1`,
        valid.lines,
        valid.body,
      );
    default: {
      // Several Content-Type / Authorization / Host lines at once, each alone valid.
      const lines = [
        ...valid.lines,
        ...valid.lines.filter((l) => /^(Content-Type|Authorization):/i.test(l)),
      ];
      return one('repeated headers', `${valid.method} ${valid.path} HTTP/1.1`, lines, valid.body);
    }
  }
}

export function raw(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const app = r.pick<AppName>(['auth', 'mcp']);
  const c = rawCase(r, ctx, app);
  return {
    index,
    app,
    endpoint: `raw ${c.name}`,
    bytes: c.bytes,
    methods: c.methods,
    fresh: true,
    halfClose: c.truncated === true,
    expect: c.truncated ? 'any' : 'answer',
    foreignHosts: c.foreignHosts ?? [],
    sentSecrets: [],
  };
}
