import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkExchange,
  checkLogLines,
  checkLogSecrets,
  foreignHost,
  foreignHostPattern,
} from '../src/checks.js';
import { ConnectionPool, type ExchangeResult } from '../src/connection.js';
import { excerpt, Findings } from '../src/findings.js';
import type { FuzzContext } from '../src/generate/context.js';
import { generateRequest } from '../src/generate/index.js';
import type { PlannedRequest } from '../src/plan.js';
import { Random } from '../src/random.js';
import { harvestSecrets, publicCookie, SecretRegistry } from '../src/secrets.js';
import { readSettings, replayCommand } from '../src/settings.js';
import { type ParsedResponse, ResponseReader } from '../src/wire.js';

/** The checks themselves: each planted defect must be reported, and nothing on clean input. */

const SEED = 4242;
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

function plan(overrides: Partial<PlannedRequest> = {}): PlannedRequest {
  return {
    index: 7,
    app: 'mcp',
    endpoint: 'POST /mcp',
    bytes: Buffer.from('POST /mcp HTTP/1.1\r\nHost: localhost:1\r\nContent-Length: 0\r\n\r\n'),
    methods: ['POST'],
    fresh: false,
    halfClose: false,
    expect: 'answer',
    foreignHosts: [],
    sentSecrets: [],
    ...overrides,
  };
}

function response(
  status: number,
  headers: Array<[string, string]> = [],
  body = '',
): ParsedResponse {
  return {
    statusLine: `HTTP/1.1 ${status} X`,
    status,
    headers,
    body: Buffer.from(body),
    complete: true,
    streaming: false,
  };
}

function result(overrides: Partial<ExchangeResult> = {}): ExchangeResult {
  return {
    responses: [],
    raw: Buffer.alloc(0),
    sent: true,
    timedOut: false,
    closed: true,
    error: undefined,
    reused: false,
    after: undefined,
    ...overrides,
  };
}

const kinds = (findings: readonly { kind: string }[]) => findings.map((f) => f.kind);

describe('exchange checks', () => {
  const foreign = foreignHostPattern(SEED);

  it('reports a 5xx and nothing for a 4xx', () => {
    expect(kinds(checkExchange(plan(), result({ responses: [response(500)] }), foreign))).toEqual([
      'server-error',
    ]);
    expect(kinds(checkExchange(plan(), result({ responses: [response(503)] }), foreign))).toEqual([
      'server-error',
    ]);
    expect(
      checkExchange(
        plan(),
        result({ responses: [response(400, [['connection', 'close']])] }),
        foreign,
      ),
    ).toEqual([]);
  });

  it('reports a connection closed or timed out without an answer, unless the request was cut off', () => {
    expect(kinds(checkExchange(plan(), result(), foreign))).toEqual(['dropped-connection']);
    expect(
      kinds(checkExchange(plan(), result({ timedOut: true, closed: false }), foreign)),
    ).toEqual(['no-answer']);
    expect(checkExchange(plan({ expect: 'any', halfClose: true }), result(), foreign)).toEqual([]);
    // Reset while still writing: the answer may have been lost with the reset, so not counted.
    expect(checkExchange(plan(), result({ sent: false, error: 'ECONNRESET' }), foreign)).toEqual(
      [],
    );
  });

  it('reports pipelined requests left unanswered without Connection: close', () => {
    const pipelined = plan({ methods: ['GET', 'GET', 'GET'] });
    expect(
      kinds(checkExchange(pipelined, result({ responses: [response(200)] }), foreign)),
    ).toEqual(['dropped-connection']);
    const stalled = result({ responses: [response(200)], timedOut: true, closed: false });
    expect(kinds(checkExchange(pipelined, stalled, foreign))).toEqual(['no-answer']);
    expect(
      checkExchange(
        pipelined,
        result({ responses: [response(200), response(400, [['connection', 'close']])] }),
        foreign,
      ),
    ).toEqual([]);
  });

  it('reports a response cut short, but not an open event stream', () => {
    const cut = { ...response(200), complete: false };
    expect(kinds(checkExchange(plan(), result({ responses: [cut] }), foreign))).toEqual([
      'incomplete-response',
    ]);
    expect(
      checkExchange(plan(), result({ responses: [{ ...cut, streaming: true }] }), foreign),
    ).toEqual([]);
  });

  it('finds a foreign host in the status line, the headers or the body, in any case', () => {
    const evil = foreignHost(SEED);
    for (const raw of [
      `HTTP/1.1 301 Moved\r\nLocation: http://${evil}/x\r\n\r\n`,
      `HTTP/1.1 200 OK\r\n\r\n{"issuer":"http://${evil.toUpperCase()}:4000"}`,
      `HTTP/1.1 400 ${foreignHost(SEED, 3)}\r\n\r\n`,
    ]) {
      const found = checkExchange(
        plan(),
        result({ responses: [response(200)], raw: Buffer.from(raw) }),
        foreign,
      );
      expect(kinds(found), raw).toEqual(['reflected-host']);
    }
    // Hosts named by the request itself (not of the seed's pattern) are looked for too.
    const named = plan({ foreignHosts: ['localhost:4000.x'] });
    const reflected = result({
      responses: [response(200)],
      raw: Buffer.from('HTTP/1.1 200 OK\r\n\r\nhttp://localhost:4000.x/token'),
    });
    expect(kinds(checkExchange(named, reflected, foreign))).toEqual(['reflected-host']);
    // Another seed's marker or the server's own host is not a finding.
    const clean = result({
      responses: [response(200)],
      raw: Buffer.from(`HTTP/1.1 200 OK\r\n\r\nhttp://localhost:4000 ${foreignHost(SEED + 1)}`),
    });
    expect(checkExchange(named, clean, foreign)).toEqual([]);
  });
});

describe('log checks', () => {
  it('finds a planted secret in a log line and names the line, not the secret', () => {
    const secrets = new SecretRegistry();
    secrets.add(TOKEN, 'access token');
    secrets.add('short', 'too short to scan');
    const log = `{"level":30,"msg":"request"}\n{"level":30,"msg":"oops","auth":"Bearer ${TOKEN}"}\n`;
    const found = checkLogSecrets('auth-server stdout', log, secrets);
    expect(found).toHaveLength(1);
    expect(found[0]?.detail).toBe('access token on line 2');
    expect(secrets.redact(found[0]?.example ?? '')).toContain('Bearer <access token>');
    expect(checkLogSecrets('auth-server stdout', '{"short":"short"}\n', secrets)).toEqual([]);
  });

  it('finds a secret however many are known, at the start, the end, or overlapping another', () => {
    const secrets = new SecretRegistry();
    for (let i = 0; i < 5_000; i++) secrets.add(`secret-${i}-${'x'.repeat(20)}`, `secret ${i}`);
    secrets.add('password-of-carol-123', 'password');
    secrets.add('password-of-carol-1234567', 'longer password');
    expect(secrets.find('password-of-carol-123').map((f) => f.entry.label)).toEqual(['password']);
    expect(secrets.find('xpassword-of-carol-1234567').map((f) => f.entry.label)).toEqual([
      'longer password',
    ]);
    expect(secrets.find(`a secret-4999-${'x'.repeat(20)}`).map((f) => f.entry.label)).toEqual([
      'secret 4999',
    ]);
  });

  it('reports every line that is not a JSON object, except the allowed banner lines', () => {
    const log = [
      '{"level":30,"msg":"fine"}',
      'Error: plain text past the logger',
      '    at somewhere (file.js:1:1)',
      '[1,2]',
      'Dev user: username "dev", password "x"',
      '',
    ].join('\n');
    const found = checkLogLines('mcp-server stderr', log, [
      /^Dev user: username "[^"]*", password "[^"]*"$/,
    ]);
    expect(found.map((f) => f.detail)).toEqual([
      'line 2: "Error: plain text past the logger"',
      'line 3: "    at somewhere (file.js:1:1)"',
      'line 4: "[1,2]"',
    ]);
    expect(checkLogLines('x', '{"a":1}\n{"b":2}\n')).toEqual([]);
  });
});

describe('secrets harvested from responses', () => {
  it('takes tokens from JSON, codes from redirects, CSRF tokens from pages and cookie values', () => {
    const secrets = new SecretRegistry();
    harvestSecrets(
      response(
        200,
        [['content-type', 'application/json']],
        `{"access_token":"${TOKEN}","refresh_token":"refresh-token-value"}`,
      ),
      secrets,
    );
    harvestSecrets(
      response(303, [
        ['location', 'http://127.0.0.1:1/cb?code=the-code-value&state=x'],
        ['set-cookie', '_session=session-cookie-value; path=/'],
        ['set-cookie', '_interaction=interaction-uid-123; path=/interaction/interaction-uid-123'],
        [
          'set-cookie',
          '_interaction.sig=interaction-signature; path=/interaction/interaction-uid-123',
        ],
      ]),
      secrets,
    );
    harvestSecrets(
      response(
        200,
        [['content-type', 'text/html']],
        '<form><input type="hidden" name="csrf" value="csrf-token-value"></form>',
      ),
      secrets,
    );
    const text = `${TOKEN} refresh-token-value the-code-value session-cookie-value csrf-token-value interaction-uid-123 interaction-signature`;
    expect(secrets.redact(text)).toBe(
      '<access_token> <refresh_token> <code> <cookie _session> <csrf> interaction-uid-123 <cookie _interaction.sig>',
    );
  });
});

describe('public cookies and excerpts', () => {
  it('treats only a cookie whose value is a segment of its own path as public', () => {
    expect(publicCookie('uid-123', '/interaction/uid-123')).toBe(true);
    expect(publicCookie('uid-123', '/auth/uid-123')).toBe(true);
    expect(publicCookie('session-value', '/')).toBe(false);
    expect(publicCookie('uid', '/interaction/uid-123')).toBe(false);
    expect(publicCookie('uid-123', undefined)).toBe(false);
  });

  it('shows the start and the end of a long request, with its nesting depth', () => {
    const shown = excerpt(
      `POST /reg HTTP/1.1\r\n\r\n{"a":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
      200,
    );
    expect(shown).toContain('POST /reg');
    expect(shown).toContain(']]]}');
    expect(shown).toContain('brackets nested 5001 deep');
    expect(excerpt('short', 200)).toBe('"short"');
  });
});

describe('response reader', () => {
  it('reads Content-Length, chunked, HEAD, interim and close-delimited answers in sequence', () => {
    const reader = new ResponseReader(['GET', 'HEAD', 'POST', 'GET']);
    const wire = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
      'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nTrailer: 1\r\n\r\n',
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nbye',
    ].join('');
    // Byte by byte: framing must not depend on how TCP splits the stream.
    for (const byte of Buffer.from(wire)) reader.push(Buffer.from([byte]));
    reader.end();
    expect(reader.responses.map((r) => [r.status, r.body.toString(), r.complete])).toEqual([
      [200, 'hello', true],
      [200, '', true],
      [201, 'abcde', true],
      [400, 'bye', true],
    ]);
  });

  it('keeps a response whose body never completed as pending', () => {
    const reader = new ResponseReader(['GET']);
    reader.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    reader.end();
    expect(reader.responses).toEqual([]);
    expect(reader.pending?.complete).toBe(false);
  });
});

describe('against real sockets', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  async function serve(onRequest: (socket: Socket, request: string) => void): Promise<number> {
    const server = createServer((socket) => {
      let data = '';
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        data += chunk.toString('latin1');
        if (data.includes('\r\n\r\n')) onRequest(socket, data);
      });
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async function exchange(port: number, request: PlannedRequest) {
    const pool = new ConnectionPool({
      port,
      localAddress: '127.0.0.1',
      timeoutMs: 1_000,
      streamGraceMs: 100,
    });
    try {
      return checkExchange(request, await pool.send(request), foreignHostPattern(SEED));
    } finally {
      pool.close();
    }
  }

  it('reports a server that resets the connection, answers 500, or echoes the Host', async () => {
    const reset = await serve((socket) => socket.resetAndDestroy());
    const error = await serve((socket) =>
      socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n'),
    );
    const echo = await serve((socket, request) => {
      const host = /\r\nHost: ([^\r]*)/i.exec(request)?.[1] ?? '';
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${host.length + 2}\r\n\r\n"${host}"`);
    });
    const silent = await serve(() => {});
    // The answer, then the start of one nobody asked for (a 400 for junk after the request).
    const extra = await serve((socket) =>
      socket.end(
        'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 400 Bad\r\nContent-Length: 9\r\n\r\nab',
      ),
    );
    const request = (host: string) =>
      plan({
        bytes: Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
        methods: ['GET'],
      });
    expect(kinds(await exchange(reset, request('localhost')))).toEqual(['dropped-connection']);
    expect(kinds(await exchange(error, request('localhost')))).toEqual(['server-error']);
    expect(kinds(await exchange(echo, request(foreignHost(SEED))))).toEqual(['reflected-host']);
    expect(kinds(await exchange(echo, request('localhost')))).toEqual([]);
    expect(kinds(await exchange(silent, request('localhost')))).toEqual(['no-answer']);
    expect(kinds(await exchange(extra, request('localhost')))).toEqual([]);
  });
});

describe('generation and settings', () => {
  const ctx: FuzzContext = {
    seed: SEED,
    issuer: 'http://localhost:4000',
    authPort: 4000,
    mcpPort: 3000,
    mcpUrl: 'http://localhost:3000/mcp',
    opaqueResource: 'http://127.0.0.1:1/api',
    redirectUri: 'http://127.0.0.1:33418/callback',
    client: { id: 'client-id', registrationAccessToken: 'registration-access-token' },
    managedClient: { id: 'managed-id', registrationAccessToken: 'managed-registration-token' },
    confidential: { id: 'introspector', secret: 'introspector-secret-value' },
    username: 'alice',
    password: 'alice-password-value',
    accessToken: TOKEN,
    refreshToken: 'refresh-token-value-0123456789',
    opaqueAccessToken: 'opaque-access-token-0123456789',
    codes: [{ code: 'code-value-0123456789', verifier: 'v'.repeat(43) }],
    sessionCookie: '_session=abc; _session.sig=def',
    loginInteraction: {
      uid: 'login-uid-0123456789',
      csrf: 'c'.repeat(43),
      cookie: '_interaction=x',
      resumeCookie: '_interaction_resume=x',
    },
    consentInteraction: {
      uid: 'consent-uid-0123456789',
      csrf: 'd'.repeat(43),
      cookie: '_interaction=y',
      resumeCookie: '_interaction_resume=y',
    },
    resumeInteraction: {
      uid: 'resume-uid-0123456789',
      csrf: 'e'.repeat(43),
      cookie: '_interaction=z',
      resumeCookie: '_interaction_resume=z',
    },
    logout: { cookie: '_session=other', xsrf: 'x'.repeat(43) },
    dpopBound: { accessToken: 'bound-access-token-0123', proofs: ['g.h.i'], badProofs: ['j.k.l'] },
    dpopProofs: { mcp: ['a.b.c'], token: ['d.e.f'] },
  };

  it('generates the same request for the same seed and index, whatever ran before', () => {
    const first = [5, 900, 3].map((i) => generateRequest(SEED, i, ctx).bytes.toString('base64'));
    const again = [3, 900, 5]
      .map((i) => generateRequest(SEED, i, ctx).bytes.toString('base64'))
      .reverse();
    expect(again).toEqual(first);
    expect(
      generateRequest(SEED + 1, 5, ctx).bytes.equals(generateRequest(SEED, 5, ctx).bytes),
    ).toBe(false);
    const r = new Random(1, 2);
    const s = new Random(1, 2);
    expect(Array.from({ length: 5 }, () => r.next())).toEqual(
      Array.from({ length: 5 }, () => s.next()),
    );
  });

  it('covers every endpoint family of both apps in a thousand requests', () => {
    const endpoints = new Set(
      Array.from({ length: 1_000 }, (_, i) => {
        const planned = generateRequest(SEED, i, ctx);
        return `${planned.app} ${planned.endpoint.split(' ').slice(1).join(' ')}`;
      }),
    );
    for (const wanted of [
      'auth /reg',
      'auth /reg/:id',
      'auth /auth',
      'auth /request',
      'auth /token',
      'auth /token/introspection',
      'auth /token/revocation',
      'auth /interaction/:uid/login',
      'auth /interaction/:uid/consent',
      'auth /jwks',
      'auth /me',
      'auth /session/end',
      'auth /.well-known/openid-configuration',
      'mcp /mcp',
      'mcp /.well-known/oauth-protected-resource/mcp',
      'auth absolute-form',
      'mcp pipelined',
    ])
      expect([...endpoints], wanted).toContain(wanted);
  });

  it('reads the seed and count from the environment and prints the replay command', () => {
    const settings = readSettings({ FUZZ_SEED: '123', FUZZ_REQUESTS: '50' });
    expect(settings).toMatchObject({ seed: 123, requests: 50 });
    expect(replayCommand(settings)).toBe(
      'FUZZ_SEED=123 FUZZ_REQUESTS=50 pnpm --filter @gatehouse/fuzz test',
    );
    expect(readSettings({}).requests).toBe(10_000);
    expect(() => readSettings({ FUZZ_SEED: 'abc' })).toThrow(/FUZZ_SEED/);
  });

  it('prints a summary grouped by kind and endpoint, with the seed and without the secrets', () => {
    const findings = new Findings();
    const secrets = new SecretRegistry();
    secrets.add(TOKEN, 'access token');
    for (let i = 0; i < 5; i++)
      findings.add({
        kind: 'server-error',
        endpoint: 'mcp POST /mcp',
        detail: `HTTP/1.1 500 #${i}`,
        example: `Authorization: Bearer ${TOKEN}\r\n${'x'.repeat(5_000)}`,
        index: i,
      });
    findings.add({
      kind: 'reflected-host',
      endpoint: 'auth GET /.well-known/openid-configuration',
      detail: 'evil',
    });
    const summary = findings.summary({
      replay: 'FUZZ_SEED=1 pnpm --filter @gatehouse/fuzz test',
      requests: 10,
      secrets,
    });
    expect(summary).toContain('FUZZ_SEED=1');
    expect(summary).toContain('[server-error]: 5');
    expect(summary).toContain('-- mcp POST /mcp: 5');
    expect(summary).toContain('[reflected-host]: 1');
    expect(summary).toContain('Bearer <access token>');
    expect(summary).not.toContain(TOKEN);
    expect(summary.length).toBeLessThan(5_000);
  });
});
