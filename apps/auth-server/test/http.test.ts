import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, register, startAuthServer } from './support/server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.process.stop());

describe('HTTP hygiene', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${server.issuer}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.issuer}/readyz`)).json()).toEqual({ status: 'ready' });
  });

  it('sends security headers and a correlation id (echoing a sane incoming one)', async () => {
    const response = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`, {
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-request-id')).toBe('abc-123');
    const generated = await fetch(`${server.issuer}/healthz`, {
      headers: { 'x-request-id': 'bad value with spaces' },
    });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('allows the headers browser MCP clients send, on every endpoint they call (CORS preflight)', async () => {
    // MCP SDKs add MCP-Protocol-Version to their OAuth requests; a preflight that does not allow
    // a header the page sends makes the browser refuse the request itself.
    const asked = 'content-type, mcp-protocol-version';
    for (const [path, method] of [
      ['/.well-known/oauth-authorization-server', 'GET'],
      ['/.well-known/openid-configuration', 'GET'],
      ['/jwks', 'GET'],
      ['/reg', 'POST'],
      ['/token', 'POST'],
      ['/token/revocation', 'POST'],
    ] as const) {
      const preflight = await fetch(`${server.issuer}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://127.0.0.1:6274',
          'access-control-request-method': method,
          'access-control-request-headers': asked,
        },
      });
      expect(preflight.status, path).toBe(204);
      const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const header of asked.split(', ')) expect(allowed, path).toContain(header);
    }
  });

  it('lets browser clients discover, register and redeem tokens (CORS)', async () => {
    const origin = 'http://localhost:6274';
    const discovery = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`, {
      headers: { origin },
    });
    expect(discovery.headers.get('access-control-allow-origin')).toBeTruthy();

    const preflight = await fetch(`${server.issuer}/reg`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');

    const { body } = await register(server.issuer, {
      client_name: 'Inspector',
      redirect_uris: [`${origin}/oauth/callback`],
    });
    const tokenPreflight = await fetch(`${server.issuer}/token`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(tokenPreflight.status).toBe(204);
    const token = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: body.client_id,
      }).toString(),
    });
    expect(token.headers.get('access-control-allow-origin')).toBe(origin);
    const stranger = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example.com',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: body.client_id,
      }).toString(),
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses oversized request bodies', async () => {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&refresh_token=${'x'.repeat(100_000)}`,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });
});

describe('logout', () => {
  it('ends the browser session: the next authorization asks to sign in again', async () => {
    const { authorize } = await import('./support/server.js');
    const { parseForms } = await import('@gatehouse/testkit');
    const clientId = (await register(server.issuer, { client_name: 'Logout Client' })).body
      .client_id;
    const first = await authorize(server.issuer, { clientId });
    const ua = first.userAgent;
    const silent = await authorize(server.issuer, { clientId, userAgent: ua });
    expect(silent.pages).toEqual([]);

    const confirm = await ua.navigate(`${server.issuer}/session/end`, () => false);
    expect(confirm.body).toContain('Sign out?');
    expect(confirm.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(confirm.body).not.toContain('fonts.googleapis.com');
    const form = parseForms(confirm.body, confirm.url)[0];
    if (!form) throw new Error('no logout form');
    const done = await ua.submit(
      { ...form, buttons: [{ name: 'logout', value: 'yes' }] },
      {},
      () => false,
      'logout',
    );
    expect(done.body).toContain('Signed out');

    const again = await authorize(server.issuer, { clientId, userAgent: ua });
    expect(again.pages[0]).toContain('name="password"');
  });
});

describe('token endpoint rate limit', () => {
  it('answers 429 with Retry-After past AUTH_TOKEN_RATE_LIMIT requests per minute', async () => {
    const limited = await startAuthServer({ AUTH_TOKEN_RATE_LIMIT: '3' });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${limited.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=refresh_token&refresh_token=x&client_id=y',
        });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3).every((status) => status !== 429)).toBe(true);
      expect(statuses[3]).toBe(429);
      if (!last) throw new Error('no response');
      expect(last.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await limited.process.stop();
    }
  });
});
