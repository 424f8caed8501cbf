import { createJwtVerifier, discoverAuthorizationServer } from '@gatehouse/auth-core';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  exchangeCode,
  INTROSPECTOR,
  MCP_RESOURCE,
  OTHER_RESOURCE,
  REDIRECT_URI,
  type RunningServer,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

let server: RunningServer;
let issuer: string;

beforeAll(async () => {
  // Dozens of registrations, each a separate case: the per-IP registration limit is not under test.
  server = await startAuthServer({ AUTH_REGISTRATION_RATE_LIMIT: '1000' });
  issuer = server.issuer;
});
afterAll(() => server.process.stop());

describe('discovery', () => {
  it('publishes RFC 8414 metadata an MCP client needs', async () => {
    const metadata = await discoverAuthorizationServer(issuer);
    expect(metadata).toMatchObject({
      issuer,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      registration_endpoint: `${issuer}/reg`,
      introspection_endpoint: `${issuer}/token/introspection`,
      revocation_endpoint: `${issuer}/token/revocation`,
    });
    expect(metadata.scopes_supported).toEqual(
      expect.arrayContaining(['offline_access', 'mcp:tools', 'mcp:admin']),
    );
  });
});

describe('full authorization flow (DCR public client)', () => {
  let clientId: string;
  beforeAll(async () => {
    const { status, body } = await register(issuer);
    expect(status).toBe(201);
    expect(body.token_endpoint_auth_method).toBe('none');
    expect(body).not.toHaveProperty('client_secret');
    expect(body.grant_types).toEqual(['authorization_code', 'refresh_token']);
    clientId = body.client_id;
  });

  it('logs in, consents, and gets an RFC 9068 JWT for the resource, refreshed with rotation', async () => {
    const result = await authorize(issuer, { clientId });
    expect(result.callback.searchParams.get('state')).toBe(result.state);
    expect(result.callback.searchParams.get('iss')).toBe(issuer);
    const [login, consent] = result.pages;
    expect(login).toContain('name="username"');
    expect(login).toContain('name="password"');
    expect(consent).toContain('Test MCP Client');
    expect(consent).toContain('127.0.0.1:33418');
    expect(consent).toContain(MCP_RESOURCE);
    expect(consent).toContain('Use the tools of this MCP server');

    const tokens = await exchangeCode(issuer, clientId, result);
    expect(tokens.status).toBe(200);
    expect(tokens.headers.get('cache-control')).toBe('no-store');
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
    expect(typeof tokens.body.refresh_token).toBe('string');
    const accessToken = String(tokens.body.access_token);
    expect(decodeProtectedHeader(accessToken).typ).toBe('at+jwt');

    const verifier = createJwtVerifier({
      issuer,
      audience: MCP_RESOURCE,
      resolveJwksUri: async () => `${issuer}/jwks`,
    });
    const verified = await verifier.verify(accessToken);
    expect(verified).toMatchObject({ subject: 'alice', clientId, scopes: ['mcp:tools'] });
    expect(verified.claims).toMatchObject({ aud: MCP_RESOURCE, iss: issuer });
    expect(typeof verified.claims.jti).toBe('string');

    const refreshed = await tokenRequest(issuer, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: String(tokens.body.refresh_token),
      resource: MCP_RESOURCE,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(tokens.body.refresh_token);
    await expect(verifier.verify(String(refreshed.body.access_token))).resolves.toMatchObject({
      subject: 'alice',
    });

    // Within the reuse interval (30 s by default) the rotated-out token still refreshes, into a
    // second pair of the same grant: racing and retried refreshes (test/refresh.test.ts).
    const retried = await tokenRequest(issuer, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: String(tokens.body.refresh_token),
    });
    expect(retried.status).toBe(200);
    expect(retried.body.refresh_token).not.toBe(refreshed.body.refresh_token);
    for (const pair of [refreshed, retried]) {
      const next = await tokenRequest(issuer, {
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: String(pair.body.refresh_token),
      });
      expect(next.status).toBe(200);
    }
  });

  it('remembers consent across browser sessions: a new session signs in but is not asked again', async () => {
    await authorize(issuer, { clientId });
    const again = await authorize(issuer, { clientId });
    expect(again.pages).toHaveLength(1);
    expect(again.pages[0]).toContain('name="password"');
  });

  it('remembers consent and the session: a second authorization goes straight back to the client', async () => {
    const first = await authorize(issuer, { clientId });
    const second = await authorize(issuer, { clientId, userAgent: first.userAgent });
    expect(second.pages).toEqual([]);
    expect(second.callback.searchParams.get('code')).toBeTruthy();
  });

  it('grants the default scopes when the request names none', async () => {
    const result = await authorize(issuer, { clientId });
    const tokens = await exchangeCode(issuer, clientId, result);
    expect(tokens.body.scope).toBe('mcp:tools');
  });

  it('accepts a non-canonical resource spelling and issues the token for the canonical resource', async () => {
    const result = await authorize(issuer, {
      clientId,
      resource: 'HTTP://LOCALHOST:3000/mcp/',
      scope: 'mcp:tools',
    });
    const tokens = await exchangeCode(issuer, clientId, result, {
      resource: 'http://localhost:3000/mcp/',
    });
    expect(tokens.status).toBe(200);
    const payload = JSON.parse(
      Buffer.from(String(tokens.body.access_token).split('.')[1] ?? '', 'base64url').toString(),
    );
    expect(payload.aud).toBe(MCP_RESOURCE);
  });

  it('uses the default resource when the request names none', async () => {
    const result = await authorize(issuer, { clientId, resource: null });
    const tokens = await exchangeCode(issuer, clientId, result, { resource: '' });
    const payload = JSON.parse(
      Buffer.from(String(tokens.body.access_token).split('.')[1] ?? '', 'base64url').toString(),
    );
    expect(payload.aud).toBe(MCP_RESOURCE);
  });

  it('revokes a refresh token (RFC 7009)', async () => {
    const result = await authorize(issuer, { clientId });
    const tokens = await exchangeCode(issuer, clientId, result);
    const revoked = await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: String(tokens.body.refresh_token),
        client_id: clientId,
      }).toString(),
    });
    expect(revoked.status).toBe(200);
    const after = await tokenRequest(issuer, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: String(tokens.body.refresh_token),
    });
    expect(after.body.error).toBe('invalid_grant');
  });
});

describe('refusals', () => {
  let clientId: string;
  beforeAll(async () => {
    clientId = (await register(issuer)).body.client_id;
  });

  it.each([
    ['missing', 'none'],
    ['plain', 'plain'],
  ] as const)('refuses PKCE %s with invalid_request', async (_name, pkce) => {
    const result = await authorize(issuer, { clientId, pkce });
    expect(result.callback.searchParams.get('error')).toBe('invalid_request');
    expect(result.callback.searchParams.get('iss')).toBe(issuer);
  });

  it('refuses an unknown resource with invalid_target', async () => {
    const result = await authorize(issuer, { clientId, resource: 'http://localhost:9999/mcp' });
    expect(result.callback.searchParams.get('error')).toBe('invalid_target');
  });

  it('refuses a token request for another resource than the one granted', async () => {
    const result = await authorize(issuer, { clientId });
    const tokens = await exchangeCode(issuer, clientId, result, { resource: OTHER_RESOURCE });
    expect(tokens.body.error).toBe('invalid_target');
  });

  it('returns access_denied with iss when the user denies consent', async () => {
    const fresh = (await register(issuer, { client_name: 'Never Consented' })).body.client_id;
    const result = await authorize(issuer, { clientId: fresh, consent: 'deny' });
    expect(result.callback.searchParams.get('error')).toBe('access_denied');
    expect(result.callback.searchParams.get('iss')).toBe(issuer);
  });

  it('refuses a reused authorization code and revokes what the first exchange issued', async () => {
    const result = await authorize(issuer, { clientId });
    const first = await exchangeCode(issuer, clientId, result);
    expect(first.status).toBe(200);
    const second = await exchangeCode(issuer, clientId, result);
    expect(second.body.error).toBe('invalid_grant');
    const refresh = await tokenRequest(issuer, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: String(first.body.refresh_token),
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('refuses a wrong code_verifier', async () => {
    const result = await authorize(issuer, { clientId });
    const tokens = await exchangeCode(issuer, clientId, result, { code_verifier: 'x'.repeat(43) });
    expect(tokens.body.error).toBe('invalid_grant');
  });
});

describe('registration policy', () => {
  it.each([
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,hi'],
    ['a fragment', 'https://app.example.com/cb#frag'],
    ['plain http to a non-loopback host', 'http://app.example.com/cb'],
    // A URL parser drops or rewrites these, so the registered string and the real target differ.
    ['a NUL', 'https://app.example.com/c\u0000b'],
    ['a TAB', 'http://127.0.0.1:1234/a\tb'],
    ['CR/LF', 'https://app.example.com/cb\r\nx'],
    ['a leading space', ' https://app.example.com/cb'],
    ['a bidi override', 'https://app.example.com/\u202ebc'],
    ['a backslash', 'https://app.example.com\\@evil.example/cb'],
    ['non-ASCII', 'https://app.example.com/caf\u00e9'],
    ['a broken percent-escape', 'https://app.example.com/%zz'],
    ['userinfo', 'https://a@app.example.com/cb'],
    ['empty userinfo', 'https://@app.example.com/cb'],
  ])('refuses a redirect URI with %s as invalid_redirect_uri', async (_name, uri) => {
    const { status, body } = await register(issuer, { redirect_uris: [uri] });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_redirect_uri');
    // Our reason, not oidc-provider's description of a mismatched authorization request.
    expect(body.error_description).toMatch(/^redirect_uris /);
  });

  it('refuses the same in post_logout_redirect_uris, as invalid_client_metadata', async () => {
    for (const uri of [
      'https://app.example.com/a\tb',
      'https://a@app.example.com/',
      'javascript:x',
    ]) {
      const { status, body } = await register(issuer, { post_logout_redirect_uris: [uri] });
      expect(status, uri).toBe(400);
      expect(body.error).toBe('invalid_client_metadata');
      expect(body.error_description).toMatch(/^post_logout_redirect_uris /);
    }
  });

  it.each([
    'https://app.example.com/cb?tenant=a%20b&x=1',
    'http://localhost:8080',
    'http://[::1]:33418/callback',
    'cursor://anysphere.cursor-retrieval/oauth/user-gatehouse/callback',
  ])('accepts the redirect URI %s as registered', async (uri) => {
    const { status, body } = await register(issuer, { redirect_uris: [uri] });
    expect(status).toBe(201);
    expect(body.redirect_uris).toEqual([uri]);
  });

  it('matches loopback redirect URIs on any port, without application_type', async () => {
    const { body } = await register(issuer, { redirect_uris: ['http://127.0.0.1:1234/callback'] });
    expect(body.application_type).toBe('native');
    const result = await authorize(issuer, {
      clientId: body.client_id,
      redirectUri: 'http://127.0.0.1:5555/callback',
    });
    expect(result.callback.port).toBe('5555');
    expect(result.callback.searchParams.get('code')).toBeTruthy();
  });

  it('accepts custom schemes of native apps', async () => {
    const { status, body } = await register(issuer, {
      redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'],
    });
    expect(status).toBe(201);
    expect(body.application_type).toBe('native');
  });

  it('does not let a registered scope block a later step-up request', async () => {
    const { body } = await register(issuer, { scope: 'mcp:tools' });
    const result = await authorize(issuer, {
      clientId: body.client_id,
      scope: 'mcp:tools mcp:admin',
    });
    const tokens = await exchangeCode(issuer, body.client_id, result);
    expect(String(tokens.body.scope).split(' ').sort()).toEqual(['mcp:admin', 'mcp:tools']);
  });
});

describe('login page', () => {
  it('refuses a form without the CSRF token', async () => {
    const clientId = (await register(issuer)).body.client_id;
    const { UserAgent, parseForms, createPkce } = await import('@gatehouse/testkit');
    const ua = new UserAgent();
    const { challenge } = createPkce();
    const url = `${issuer}/auth?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', resource: MCP_RESOURCE })}`;
    const page = await ua.navigate(url, () => false);
    const form = parseForms(page.body, page.url)[0];
    if (!form) throw new Error('no login form');
    const response = await ua.submit(
      { ...form, fields: { ...form.fields, csrf: 'forged' } },
      { username: 'alice', password: 'alice-password' },
      () => false,
    );
    expect(response.status).toBe(403);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('throttles repeated failed logins per user with a clear message', async () => {
    const clientId = (await register(issuer)).body.client_id;
    const { UserAgent, parseForms, createPkce } = await import('@gatehouse/testkit');
    const ua = new UserAgent();
    const url = `${issuer}/auth?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: createPkce().challenge, code_challenge_method: 'S256', resource: MCP_RESOURCE })}`;
    let page = await ua.navigate(url, () => false);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const form = parseForms(page.body, page.url)[0];
      if (!form) throw new Error('no login form');
      page = await ua.submit(form, { username: 'bob', password: 'wrong-password' }, () => false);
      statuses.push(page.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(page.body).toContain('Too many failed sign-in attempts');
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    // The right password does not get through while throttled either.
    const form = parseForms(page.body, page.url)[0];
    if (!form) throw new Error('no login form');
    const blocked = await ua.submit(
      form,
      { username: 'bob', password: 'bob-password' },
      () => false,
    );
    expect(blocked.status).toBe(429);
  });
});

describe('opaque access tokens', () => {
  it('issues an opaque token for a resource configured so, checked by introspection with auth-core', async () => {
    const { createIntrospectionVerifier } = await import('@gatehouse/auth-core');
    const clientId = (await register(issuer, { client_name: 'Opaque Client' })).body.client_id;
    const result = await authorize(issuer, {
      clientId,
      resource: OTHER_RESOURCE,
      scope: 'api:read',
    });
    const tokens = await exchangeCode(issuer, clientId, result, { resource: OTHER_RESOURCE });
    expect(tokens.status).toBe(200);
    const accessToken = String(tokens.body.access_token);
    expect(accessToken.split('.')).toHaveLength(1);
    const verifier = createIntrospectionVerifier({
      issuer,
      audience: OTHER_RESOURCE,
      introspectionEndpoint: `${issuer}/token/introspection`,
      clientId: INTROSPECTOR.id,
      clientSecret: INTROSPECTOR.secret,
    });
    await expect(verifier.verify(accessToken)).resolves.toMatchObject({
      subject: 'alice',
      clientId,
      scopes: ['api:read'],
    });
    // Revocation bites at once for opaque tokens.
    await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: accessToken, client_id: clientId }).toString(),
    });
    const fresh = createIntrospectionVerifier({
      issuer,
      audience: OTHER_RESOURCE,
      introspectionEndpoint: `${issuer}/token/introspection`,
      clientId: INTROSPECTOR.id,
      clientSecret: INTROSPECTOR.secret,
    });
    await expect(fresh.verify(accessToken)).rejects.toMatchObject({ reason: 'token_inactive' });
  });
});

describe('introspection (RFC 7662)', () => {
  it('answers an authenticated resource server, and refuses public clients', async () => {
    const clientId = (await register(issuer)).body.client_id;
    const result = await authorize(issuer, { clientId });
    const tokens = await exchangeCode(issuer, clientId, result);
    const introspect = (auth: Record<string, string>, body: Record<string, string>) =>
      fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
        body: new URLSearchParams(body).toString(),
      });
    const basic = {
      authorization: `Basic ${Buffer.from(`${INTROSPECTOR.id}:${INTROSPECTOR.secret}`).toString('base64')}`,
    };
    const answer = (await (
      await introspect(basic, { token: String(tokens.body.refresh_token) })
    ).json()) as Record<string, unknown>;
    expect(answer).toMatchObject({ active: true, client_id: clientId, sub: 'alice' });
    // A public client learns nothing: oidc-provider answers active: false under the allowed policy.
    const publicClient = await introspect(
      {},
      { token: String(tokens.body.refresh_token), client_id: clientId },
    );
    expect(await publicClient.json()).toEqual({ active: false });
  });
});
