import { request } from 'node:http';
import { parseForms, rawRequest, UserAgent } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  exchangeCode,
  INTROSPECTOR,
  MCP_RESOURCE,
  REDIRECT_URI,
  type RunningServer,
  register,
  startAuthServer,
} from './support/server.js';

/**
 * The authorization server under requests no well-behaved client sends: a Host that is not ours,
 * malformed or repeated headers, absolute-form targets, bodies nested thousands of levels deep,
 * compressed bodies. Each gets a clear 4xx; nothing built from configuration names another host.
 */

const EVIL = 'evil.example';
const METADATA_PATHS = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
];
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

let server: RunningServer;
let port: number;
const raw = (lines: string[], body = '') =>
  rawRequest(port, `${[...lines, 'Connection: close', '', ''].join('\r\n')}${body}`);

beforeAll(async () => {
  server = await startAuthServer();
  port = Number(new URL(server.issuer).port);
});
afterAll(() => server.process.stop());

describe('the Host a request names', () => {
  it('refuses another host with 421 on every endpoint, without naming it', async () => {
    for (const [method, path] of [
      ...METADATA_PATHS.map((path) => ['GET', path]),
      ['GET', '/jwks'],
      ['GET', '/auth?client_id=x&response_type=code'],
      ['POST', '/reg'],
      ['POST', '/token'],
      ['GET', '/session/end'],
      ['GET', '/interaction/abcdefghijkl'],
    ]) {
      for (const host of [EVIL, `${EVIL}:${port}`, `localhost.${EVIL}:${port}`]) {
        const response = await raw([`${method} ${path} HTTP/1.1`, `Host: ${host}`]);
        expect(response.status, `${method} ${path} Host: ${host}`).toBe(421);
        expect(response.raw).not.toContain(EVIL);
      }
    }
  });

  it('answers its loopback names on any port, with every URL on the issuer', async () => {
    // Any port: instances behind a balancer listen on their own ports; nothing is built from it.
    for (const host of [`127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, 'localhost:1']) {
      for (const path of METADATA_PATHS) {
        const response = await raw([`GET ${path} HTTP/1.1`, `Host: ${host}`]);
        expect(response.status, `${path} Host: ${host}`).toBe(200);
        const urls = Object.values(JSON.parse(response.body) as Record<string, unknown>).filter(
          (value): value is string => typeof value === 'string' && value.startsWith('http'),
        );
        expect(urls.length).toBeGreaterThan(5);
        for (const url of urls)
          expect(url.startsWith(`${server.issuer}/`) || url === server.issuer, url).toBe(true);
      }
    }
    const json = JSON.stringify({ redirect_uris: [REDIRECT_URI] });
    const registration = await raw(
      [
        'POST /reg HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(json)}`,
      ],
      json,
    );
    expect(registration.status).toBe(201);
    expect(JSON.parse(registration.body).registration_client_uri).toMatch(
      new RegExp(`^${server.issuer}/reg/`),
    );
  });

  it('ignores X-Forwarded-Host and X-Forwarded-Proto without AUTH_PROXY', async () => {
    const response = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`, {
      headers: { 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(EVIL);
    expect(JSON.parse(text).token_endpoint).toBe(`${server.issuer}/token`);
  });

  it('refuses a malformed Host with 400 (JSON and HTML endpoints), repeated Host too', async () => {
    for (const host of [
      `localhost:${port}.x`,
      'localhost:99999',
      'local host',
      `a@localhost:${port}`,
      '',
    ]) {
      for (const path of [...METADATA_PATHS, '/session/end']) {
        const response = await raw([`GET ${path} HTTP/1.1`, `Host: ${host}`]);
        expect(response.status, `${path} Host: ${JSON.stringify(host)}`).toBe(400);
      }
    }
    const repeated = await raw([
      `GET ${METADATA_PATHS[0]} HTTP/1.1`,
      `Host: localhost:${port}`,
      `Host: ${EVIL}`,
    ]);
    expect(repeated.status).toBe(400);
    expect(repeated.raw).not.toContain(EVIL);
  });

  it('answers health checks whatever the Host (load balancers probe by address)', async () => {
    for (const path of ['/healthz', '/readyz']) {
      expect((await raw([`GET ${path} HTTP/1.1`, 'Host: 10.0.0.7:4000'])).status).toBe(200);
    }
  });

  it('serves an absolute-form target (RFC 9112 §3.2.2), whose authority is checked like Host', async () => {
    const ours = await raw([`GET ${server.issuer}${METADATA_PATHS[0]} HTTP/1.1`, `Host: ${EVIL}`]);
    expect(ours.status).toBe(200);
    expect(ours.raw).not.toContain(EVIL);
    expect(JSON.parse(ours.body).issuer).toBe(server.issuer);
    const theirs = await raw([
      `GET http://${EVIL}${METADATA_PATHS[0]} HTTP/1.1`,
      `Host: localhost:${port}`,
    ]);
    expect(theirs.status).toBe(421);
    expect(theirs.raw).not.toContain(EVIL);
    expect(
      (await raw([`GET ftp://localhost:${port}/jwks HTTP/1.1`, `Host: localhost:${port}`])).status,
    ).toBe(400);
  });
});

describe('malformed requests', () => {
  it('refuses client metadata nested thousands of levels deep, public and confidential', async () => {
    for (const extra of [{}, { token_endpoint_auth_method: 'client_secret_basic' }]) {
      const body = `{"redirect_uris":["${REDIRECT_URI}"],"client_name":"deep","x":${nested(4000)},${JSON.stringify(extra).slice(1, -1) || '"y":1'}}`;
      const response = await fetch(`${server.issuer}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client_metadata');
    }
    expect((await register(server.issuer, { client_name: 'after the deep ones' })).status).toBe(
      201,
    );
  });

  it('refuses response_type other than exactly code, at the authorization endpoint and PAR', async () => {
    const client = (await register(server.issuer)).body.client_id;
    const query = (responseType: string) =>
      new URLSearchParams({
        response_type: responseType,
        client_id: client,
        redirect_uri: REDIRECT_URI,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        resource: MCP_RESOURCE,
      });
    for (const responseType of ['code code', 'code  ', ' code', 'code token']) {
      const page = await fetch(`${server.issuer}/auth?${query(responseType)}`, {
        headers: { accept: 'text/html' },
        redirect: 'manual',
      });
      expect(page.status, responseType).toBe(400);
      expect(page.headers.get('content-type')).toContain('text/html');
      const par = await fetch(`${server.issuer}/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: query(responseType),
      });
      expect(par.status, responseType).toBe(400);
      expect(((await par.json()) as { error: string }).error).toBe('unsupported_response_type');
    }
    // Control: exactly `code` passes this check (and PAR answers a request_uri).
    const par = await fetch(`${server.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: query('code'),
    });
    expect(par.status).toBe(201);
  });

  it('refuses two Authorization headers at revocation, introspection and token', async () => {
    const basic = `Basic ${Buffer.from(`${INTROSPECTOR.id}:${INTROSPECTOR.secret}`).toString('base64')}`;
    for (const path of ['/token/revocation', '/token/introspection', '/token']) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.issuer}${path}`, { method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.setHeader('content-type', 'application/x-www-form-urlencoded');
        // An array value goes out as two header lines; Node would keep only the first.
        req.setHeader('authorization', [basic, 'Basic b3RoZXI6b3RoZXItc2VjcmV0']);
        req.on('error', reject);
        req.end('token=x&grant_type=client_credentials');
      });
      expect(status, path).toBe(400);
    }
  });

  it('answers a body with broken framing with a 4xx, not a fault', async () => {
    for (const path of ['/reg', '/token', '/token/revocation', '/token/introspection']) {
      for (const [length, body] of [[2, '{}then more bytes than Content-Length said']] as const) {
        const response = await raw(
          [
            `POST ${path} HTTP/1.1`,
            `Host: localhost:${port}`,
            'Content-Type: application/x-www-form-urlencoded',
            `Content-Length: ${length}`,
          ],
          body,
        );
        if (response.status !== 0) expect(response.status, `${path} ${length}`).toBeLessThan(500);
      }
    }
  });

  it('refuses case and trailing-slash variants of every route, so nothing in front of the provider is bypassed', async () => {
    const deep = `{"redirect_uris":["${REDIRECT_URI}"],"x":${nested(5000)}}`;
    for (const [method, path, body] of [
      ['POST', '/TOKEN', 'grant_type=client_credentials'],
      ['POST', '/token/', 'grant_type=client_credentials'],
      ['POST', '/Token/Introspection', 'token=x'],
      ['POST', '/reg/', deep],
      ['POST', '/Reg', deep],
      ['GET', '/REG/pub_x', ''],
      ['POST', '/Request', 'response_type=code%20code'],
      ['GET', '/.well-known/OPENID-configuration', ''],
      ['GET', '/jwks/', ''],
      ['GET', '/Auth?response_type=code%20code', ''],
    ] as const) {
      const response = await fetch(`${server.issuer}${path}`, {
        method,
        headers: {
          'content-type': path.toLowerCase().startsWith('/reg')
            ? 'application/json'
            : 'application/x-www-form-urlencoded',
        },
        ...(body ? { body } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
  });

  it('answers CONNECT with 405 instead of dropping the connection', async () => {
    const response = await rawRequest(
      port,
      `CONNECT localhost:${port} HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`,
    );
    expect(response.status).toBe(405);
  });

  it('closes the connection after answering an oversized body, instead of leaving it hanging', async () => {
    // Two requests on one connection: the second must be answered, or the connection closed after
    // the first; a connection left open with the rest of the body unread never answers.
    for (const [path, type] of [
      ['/token', 'application/x-www-form-urlencoded'],
      ['/reg', 'application/json'],
    ] as const) {
      const body = `x=${'a'.repeat(100_000)}`;
      const response = await rawRequest(
        port,
        [
          `POST ${path} HTTP/1.1`,
          `Host: localhost:${port}`,
          `Content-Type: ${type}`,
          `Content-Length: ${body.length}`,
          '',
          `${body}GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`,
        ].join('\r\n'),
        { timeoutMs: 10_000 },
      );
      expect(response.status, path).toBe(413);
      expect(response.headers.connection, path).toBe('close');
    }
  });

  it('refuses a compressed body with 415 instead of reading it as plain', async () => {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-encoding': 'gzip',
      },
      body: 'grant_type=refresh_token&refresh_token=x',
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('accept-encoding')).toBe('identity');
  });
});

describe('the log under hostile requests', () => {
  it('logs client mistakes below error level, every line JSON and bounded', async () => {
    const ua = new UserAgent();
    const client = (await register(server.issuer)).body.client_id;
    // A live sign-in page, then an oversized form posted to it (413).
    const signIn = await ua.navigate(
      `${server.issuer}/auth?${new URLSearchParams({
        response_type: 'code',
        client_id: client,
        redirect_uri: REDIRECT_URI,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        resource: MCP_RESOURCE,
      })}`,
      () => false,
    );
    const form = parseForms(signIn.body, signIn.url)[0];
    expect(form).toBeDefined();
    const oversized = await ua.request(form?.action ?? '', {
      body: new URLSearchParams({ ...form?.fields, username: 'x'.repeat(20_000), password: 'p' }),
    });
    expect(oversized.status).toBe(413);
    const longPath = `/${'a'.repeat(15_000)}`;
    expect((await raw([`GET ${longPath} HTTP/1.1`, `Host: localhost:${port}`])).status).toBe(404);
    const chunked = await raw(
      [
        'POST /token HTTP/1.1',
        `Host: localhost:${port}`,
        'Content-Type: application/x-www-form-urlencoded',
        'Transfer-Encoding: chunked',
      ],
      'zz\r\nnot a chunk\r\n0\r\n\r\n',
    );
    expect(chunked.status).toBe(400);
    // An absolute-form target with two ports: Node's legacy URL parser would print a deprecation
    // warning for it on stderr.
    expect(
      (await raw([`GET http://localhost:${port}:${port}/reg HTTP/1.1`, `Host: localhost:${port}`]))
        .status,
    ).toBe(400);
    // A confidential client revoking another client's token: oidc-provider's default policy would
    // print a plain-text notice.
    const other = (await register(server.issuer)).body.client_id;
    const tokens = await exchangeCode(
      server.issuer,
      other,
      await authorize(server.issuer, { clientId: other }),
    );
    const revoke = await fetch(`${server.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${INTROSPECTOR.id}:${INTROSPECTOR.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: String(tokens.body.refresh_token) }),
    });
    expect(revoke.status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lines = server.process.output().split('\n').filter(Boolean);
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: number; msg: string };
      expect(entry.level, line.slice(0, 300)).toBeLessThan(50);
      expect(line.length, line.slice(0, 300)).toBeLessThan(2048);
    }
  });
});

describe('behind a proxy (AUTH_PROXY=true) with an https issuer', () => {
  const publicHost = 'auth.gatehouse.test';
  const issuer = `https://${publicHost}`;
  let proxied: RunningServer;
  let gateway: { origin: string; headers: Record<string, string> };

  beforeAll(async () => {
    proxied = await startAuthServer({
      AUTH_ISSUER: issuer,
      AUTH_PROXY: 'true',
      AUTH_BIND: '127.0.0.1',
    });
    const instancePort = new URL(proxied.issuer).port;
    // What a TLS-terminating load balancer adds to every request it forwards.
    gateway = {
      origin: `http://127.0.0.1:${instancePort}`,
      headers: {
        'x-forwarded-host': publicHost,
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '203.0.113.9',
      },
    };
  });
  afterAll(() => proxied?.process.stop());

  it('publishes the issuer URLs, and refuses a forwarded host that is not the issuer', async () => {
    const metadata = await fetch(`${gateway.origin}/.well-known/oauth-authorization-server`, {
      headers: gateway.headers,
    });
    expect(metadata.status).toBe(200);
    const body = (await metadata.json()) as Record<string, string>;
    expect(body.issuer).toBe(issuer);
    expect(body.token_endpoint).toBe(`${issuer}/token`);
    expect(body.registration_endpoint).toBe(`${issuer}/reg`);
    // A balancer that forwarded plain http still gets the issuer's https URLs.
    const overHttp = await fetch(`${gateway.origin}/.well-known/oauth-authorization-server`, {
      headers: { ...gateway.headers, 'x-forwarded-proto': 'http' },
    });
    expect(((await overHttp.json()) as Record<string, string>).jwks_uri).toBe(`${issuer}/jwks`);
    for (const headers of [
      { ...gateway.headers, 'x-forwarded-host': EVIL },
      { 'x-forwarded-proto': 'https' }, // no X-Forwarded-Host: Host (127.0.0.1:port) is not the issuer
    ]) {
      const refused = await fetch(`${gateway.origin}/.well-known/oauth-authorization-server`, {
        headers,
      });
      expect(refused.status).toBe(421);
      expect(await refused.text()).not.toContain(EVIL);
    }
  });

  it('runs the full flow with secure cookies, and registration URIs on the issuer', async () => {
    const registration = await fetch(`${gateway.origin}/reg`, {
      method: 'POST',
      headers: { ...gateway.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    });
    expect(registration.status).toBe(201);
    const client = (await registration.json()) as {
      client_id: string;
      registration_client_uri: string;
    };
    expect(client.registration_client_uri).toBe(`${issuer}/reg/${client.client_id}`);
    const ua = new UserAgent({ gateway });
    const result = await authorize(issuer, { clientId: client.client_id, userAgent: ua });
    expect(result.callback.searchParams.get('iss')).toBe(issuer);
    const token = await fetch(`${gateway.origin}/token`, {
      method: 'POST',
      headers: { ...gateway.headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: client.client_id,
        code: result.callback.searchParams.get('code') ?? '',
        redirect_uri: REDIRECT_URI,
        code_verifier: result.verifier,
        resource: MCP_RESOURCE,
      }),
    });
    expect(token.status).toBe(200);
  });
});
