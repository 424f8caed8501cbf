import { spawnSync } from 'node:child_process';
import { createPkce, introspectionClient, parseForms, UserAgent } from '@gatehouse/testkit';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  INTROSPECTOR,
  MCP_RESOURCE,
  OTHER_RESOURCE,
  REDIRECT_URI,
  type RunningServer,
  startAuthServer,
} from './support/server.js';

/**
 * AUTH_COMPAT=keycloak: the server looks like a Keycloak realm as far as URLs go. The clients here
 * know nothing but the base URL and the realm name, and build every URL the way a Keycloak client
 * does (no discovery), except in the discovery tests themselves.
 */

const REALM = 'mcp';

function keycloakUrls(base: string, realm: string) {
  const issuer = `${base}/realms/${realm}`;
  const oidc = `${issuer}/protocol/openid-connect`;
  return {
    issuer,
    authorization: `${oidc}/auth`,
    token: `${oidc}/token`,
    introspection: `${oidc}/token/introspect`,
    certs: `${oidc}/certs`,
    userinfo: `${oidc}/userinfo`,
    logout: `${oidc}/logout`,
    revoke: `${oidc}/revoke`,
    par: `${oidc}/ext/par/request`,
    registration: `${issuer}/clients-registrations/openid-connect`,
  };
}

/** The introspecting resource server, configured like the tutorial's Python one. */
const RESOURCE_SERVER_CLIENT = introspectionClient(INTROSPECTOR, 'client_secret_post');

async function postForm(url: string, params: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

async function registerAt(
  registrationEndpoint: string,
  metadata: Record<string, unknown> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Keycloak-layout client',
      redirect_uris: [REDIRECT_URI],
      ...metadata,
    }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

let server: RunningServer;
let base: string;
let kc: ReturnType<typeof keycloakUrls>;

beforeAll(async () => {
  server = await startAuthServer({
    AUTH_COMPAT: 'keycloak',
    AUTH_REALM: REALM,
    AUTH_CLIENTS: JSON.stringify([RESOURCE_SERVER_CLIENT]),
  });
  base = server.issuer;
  kc = keycloakUrls(base, REALM);
});
afterAll(() => server.process.stop());

/** Registers at the Keycloak path, signs alice in, and redeems the code at the Keycloak path. */
async function signedInClient(options: { resource?: string; scope?: string } = {}) {
  const resource = options.resource ?? MCP_RESOURCE;
  const registered = await registerAt(kc.registration);
  expect(registered.status).toBe(201);
  const clientId = String(registered.body.client_id);
  const result = await authorize(kc.issuer, {
    clientId,
    resource,
    authorizationEndpoint: kc.authorization,
    ...(options.scope ? { scope: options.scope } : {}),
  });
  const tokens = await postForm(kc.token, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code: result.callback.searchParams.get('code') ?? '',
    redirect_uri: REDIRECT_URI,
    code_verifier: result.verifier,
    resource,
  });
  expect(tokens.status).toBe(200);
  return { clientId, result, tokens: tokens.body };
}

const introspect = (token: string) =>
  postForm(kc.introspection, {
    token,
    client_id: RESOURCE_SERVER_CLIENT.client_id,
    client_secret: RESOURCE_SERVER_CLIENT.client_secret,
  });

describe('a client that knows only Keycloak URLs', () => {
  it('registers, signs in with PKCE, redeems, verifies, refreshes, introspects, revokes and logs out', async () => {
    // Dynamic client registration (RFC 7591) at Keycloak's path.
    const registered = await registerAt(kc.registration);
    expect(registered.status).toBe(201);
    const clientId = String(registered.body.client_id);
    expect(registered.body.token_endpoint_auth_method).toBe('none');
    expect(registered.body.registration_client_uri).toBe(`${kc.registration}/${clientId}`);

    // Authorization code with PKCE S256, resource and the openid scope; the login form lives
    // under the realm.
    const result = await authorize(kc.issuer, {
      clientId,
      scope: 'openid mcp:tools',
      authorizationEndpoint: kc.authorization,
    });
    expect(result.callback.searchParams.get('state')).toBe(result.state);
    expect(result.callback.searchParams.get('iss')).toBe(kc.issuer);
    const [login] = result.pages;
    expect(login).toContain('name="password"');
    expect(login).toMatch(/action="\/realms\/mcp\/interaction\/[\w-]+\/login"/);
    const code = result.callback.searchParams.get('code') ?? '';
    expect(code).not.toBe('');

    const tokens = await postForm(kc.token, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: result.verifier,
      resource: MCP_RESOURCE,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.headers.get('cache-control')).toBe('no-store');
    const accessToken = String(tokens.body.access_token);
    const refreshToken = String(tokens.body.refresh_token);
    // The access token is for the resource, so its scope is the resource's; openid is answered
    // by the ID token below.
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });

    // The access token is a JWT for the resource, signed by a key from /protocol/openid-connect/certs.
    const jwks = createRemoteJWKSet(new URL(kc.certs));
    expect(decodeProtectedHeader(accessToken).typ).toBe('at+jwt');
    const { payload } = await jwtVerify(accessToken, jwks, {
      issuer: kc.issuer,
      audience: MCP_RESOURCE,
    });
    expect(payload).toMatchObject({
      iss: kc.issuer,
      aud: MCP_RESOURCE,
      sub: 'alice',
      client_id: clientId,
      scope: 'mcp:tools',
    });

    // openid was asked for: an ID token for the client, from the same issuer and keys.
    const idToken = await jwtVerify(String(tokens.body.id_token), jwks, {
      issuer: kc.issuer,
      audience: clientId,
    });
    expect(idToken.payload.sub).toBe('alice');

    // UserInfo at Keycloak's path answers for this resource-bound JWT (its grant holds openid);
    // a token that is not ours gets the RFC 6750 refusal, naming the realm issuer.
    const userinfo = await fetch(kc.userinfo, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({ sub: 'alice' });
    const stranger = await fetch(kc.userinfo, {
      headers: { authorization: `Bearer ${accessToken.slice(0, -4)}AAAA` },
    });
    expect(stranger.status).toBe(401);
    expect(stranger.headers.get('www-authenticate')).toBe(
      `Bearer realm="${kc.issuer}", error="invalid_token", error_description="invalid token provided"`,
    );

    // Refresh, with rotation.
    const refreshed = await postForm(kc.token, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: refreshToken,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(refreshToken);
    await expect(
      jwtVerify(String(refreshed.body.access_token), jwks, {
        issuer: kc.issuer,
        audience: MCP_RESOURCE,
      }),
    ).resolves.toMatchObject({ payload: { sub: 'alice' } });

    // Introspection by the resource server.
    const answer = await introspect(String(refreshed.body.refresh_token));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ active: true, client_id: clientId, sub: 'alice' });

    // Revocation (RFC 7009) of the refresh token ends the grant.
    const revoked = await postForm(kc.revoke, {
      token: String(refreshed.body.refresh_token),
      client_id: clientId,
    });
    expect(revoked.status).toBe(200);
    const afterRevocation = await postForm(kc.token, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: String(refreshed.body.refresh_token),
    });
    expect(afterRevocation.body.error).toBe('invalid_grant');
    expect((await introspect(String(refreshed.body.refresh_token))).body).toEqual({
      active: false,
    });

    // Logout: the confirmation page, its form posting back under the logout path, and the
    // browser session really ends.
    const ua = result.userAgent;
    const confirm = await ua.navigate(kc.logout, () => false);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Sign out?');
    const form = parseForms(confirm.body, confirm.url)[0];
    if (!form) throw new Error('no logout form');
    expect(form.action).toBe(`${kc.logout}/confirm`);
    const done = await ua.submit(
      { ...form, buttons: [{ name: 'logout', value: 'yes' }] },
      {},
      () => false,
      'logout',
    );
    expect(done.body).toContain('Signed out');
    const again = await authorize(kc.issuer, {
      clientId,
      userAgent: ua,
      authorizationEndpoint: kc.authorization,
    });
    expect(again.pages[0]).toContain('name="password"');

    // None of it reached the log.
    const log = server.process.output();
    for (const secret of [accessToken, refreshToken, code, 'alice-password']) {
      expect(log).not.toContain(secret);
    }
  });

  it('runs a pushed authorization request (PAR) through /protocol/openid-connect/ext/par/request', async () => {
    const clientId = String((await registerAt(kc.registration)).body.client_id);
    const { verifier, challenge } = createPkce();
    // No scope: the resource's default scopes are filled in on the PAR path too.
    const pushed = await postForm(kc.par, {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: MCP_RESOURCE,
      state: 'par-state',
    });
    expect(pushed.status).toBe(201);
    const requestUri = String(pushed.body.request_uri);
    expect(requestUri).toMatch(/^urn:ietf:params:oauth:request_uri:/);

    const ua = new UserAgent();
    const atCallback = (url: string) => url.startsWith(REDIRECT_URI);
    const start = `${kc.authorization}?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`;
    let page = await ua.navigate(start, atCallback);
    for (let step = 0; step < 3 && !atCallback(page.url); step++) {
      const form = parseForms(page.body, page.url)[0];
      if (!form) throw new Error(`no form on page (HTTP ${page.status})`);
      page =
        'password' in form.fields
          ? await ua.submit(form, { username: 'alice', password: 'alice-password' }, atCallback)
          : await ua.submit(form, {}, atCallback, 'allow');
    }
    const callback = new URL(page.url);
    expect(callback.searchParams.get('state')).toBe('par-state');
    expect(callback.searchParams.get('iss')).toBe(kc.issuer);
    const tokens = await postForm(kc.token, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.body.scope).toBe('mcp:tools');
  });
});

describe('introspection as the tutorial resource server calls it', () => {
  // Opaque access tokens (accessTokenFormat "opaque") here; JWTs in the test after this one.
  it('answers a client_secret_post form with active, aud, scope, client_id and exp; inactive once revoked', async () => {
    const { clientId, tokens } = await signedInClient({
      resource: OTHER_RESOURCE,
      scope: 'api:read',
    });
    const accessToken = String(tokens.access_token);
    expect(accessToken.split('.')).toHaveLength(1);

    const answer = await introspect(accessToken);
    expect(answer.status).toBe(200);
    expect(answer.body.active).toBe(true);
    expect([answer.body.aud].flat()).toContain(OTHER_RESOURCE);
    expect(String(answer.body.scope).split(' ')).toContain('api:read');
    expect(answer.body.client_id).toBe(clientId);
    expect(answer.body.exp).toBeGreaterThan(Date.now() / 1000);
    expect(answer.body.iss).toBe(kc.issuer);

    const revoked = await postForm(kc.revoke, { token: accessToken, client_id: clientId });
    expect(revoked.status).toBe(200);
    expect((await introspect(accessToken)).body).toEqual({ active: false });
  });

  it("introspects JWT access tokens too, at Keycloak's URL and with Keycloak's fields", async () => {
    const { tokens } = await signedInClient();
    const answer = await introspect(String(tokens.access_token));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      active: true,
      iss: kc.issuer,
      sub: 'alice',
      username: 'alice',
      token_type: 'Bearer',
    });
  });

  it('refuses the resource server without its secret', async () => {
    const { tokens } = await signedInClient();
    const answer = await postForm(kc.introspection, {
      token: String(tokens.access_token),
      client_id: RESOURCE_SERVER_CLIENT.client_id,
      client_secret: 'not-the-secret-of-this-client',
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
  });
});

describe('discovery', () => {
  it('serves the same metadata at every URL Keycloak and MCP clients try, every endpoint at its Keycloak path', async () => {
    const urls = [
      `${kc.issuer}/.well-known/openid-configuration`,
      `${kc.issuer}/.well-known/oauth-authorization-server`,
      `${base}/.well-known/oauth-authorization-server/realms/${REALM}`,
      `${base}/.well-known/openid-configuration/realms/${REALM}`,
    ];
    const documents: Record<string, unknown>[] = [];
    for (const url of urls) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      documents.push((await response.json()) as Record<string, unknown>);
    }
    const [metadata, ...others] = documents;
    for (const other of others) expect(other).toEqual(metadata);

    expect(metadata?.issuer).toBe(kc.issuer);
    const expected = {
      authorization_endpoint: kc.authorization,
      token_endpoint: kc.token,
      introspection_endpoint: kc.introspection,
      jwks_uri: kc.certs,
      userinfo_endpoint: kc.userinfo,
      end_session_endpoint: kc.logout,
      revocation_endpoint: kc.revoke,
      registration_endpoint: kc.registration,
      pushed_authorization_request_endpoint: kc.par,
    };
    // Exactly these: no endpoint is left behind at a Gatehouse path.
    const advertised = Object.fromEntries(
      Object.entries(metadata ?? {}).filter(
        ([key]) => key.endsWith('_endpoint') || key === 'jwks_uri',
      ),
    );
    expect(advertised).toEqual(expected);
  });

  it.each([
    ['POST', '/token'],
    ['POST', '/reg'],
    ['GET', '/jwks'],
    ['GET', '/.well-known/oauth-authorization-server'],
    ['GET', '/.well-known/openid-configuration'],
    ['POST', `/realms/${REALM}/token`],
    ['POST', `/realms/${REALM}/reg`],
    ['GET', `/realms/${REALM}/auth`],
    ['GET', `/realms/${REALM}/jwks`],
    ['POST', `/realms/${REALM}/token/introspection`],
    ['GET', '/realms/other/.well-known/openid-configuration'],
  ])('answers 404 at the Gatehouse path %s %s', async (method, path) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      ...(method === 'POST'
        ? { body: 'grant_type=refresh_token&refresh_token=x&client_id=y' }
        : {}),
    });
    expect(response.status).toBe(404);
  });

  it('keeps /healthz and /readyz at the host root', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
  });

  it('states the layout and the Keycloak endpoints in its startup log', () => {
    const log = server.process.output();
    expect(log).toContain(
      `authorization server ready at ${kc.issuer} (Keycloak-compatible URL layout, realm \\"${REALM}\\")`,
    );
    expect(log).toContain('"compat":"keycloak"');
    expect(log).toContain(`"token_endpoint":"${kc.token}"`);
    expect(log).toContain(`"registration_endpoint":"${kc.registration}"`);
  });
});

describe('the middlewares in front of oidc-provider act on the Keycloak paths', () => {
  it('answers a retried refresh request with working tokens (reuse interval)', async () => {
    const { clientId, tokens } = await signedInClient();
    const request = {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: String(tokens.refresh_token),
      resource: MCP_RESOURCE,
    };
    const first = await postForm(kc.token, request);
    const retry = await postForm(kc.token, request);
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    for (const answer of [first, retry]) {
      const next = await postForm(kc.token, {
        ...request,
        refresh_token: String(answer.body.refresh_token),
      });
      expect(next.status).toBe(200);
    }
  });

  it('honours offline_access without prompt=consent: a refresh naming it succeeds', async () => {
    const { clientId, result, tokens } = await signedInClient({
      scope: 'mcp:tools offline_access',
    });
    expect(result.pages.join('')).toContain('offline_access');
    const refreshed = await postForm(kc.token, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: String(tokens.refresh_token),
      scope: 'mcp:tools offline_access',
    });
    expect(refreshed.status).toBe(200);
  });

  it('grants the resource default scopes when the authorization request names none', async () => {
    const { tokens } = await signedInClient();
    expect(tokens.scope).toBe('mcp:tools');
  });

  it('answers the CORS preflight of browser clients at the registration path', async () => {
    const preflight = await fetch(kc.registration, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:6274',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('refuses to change a shared client through the registration management path', async () => {
    const { body } = await registerAt(kc.registration, { client_name: 'Shared Client' });
    const clientId = String(body.client_id);
    expect(clientId.startsWith('pub_')).toBe(true);
    const update = await fetch(`${kc.registration}/${clientId}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${String(body.registration_access_token)}`,
      },
      body: JSON.stringify({
        client_id: clientId,
        client_name: 'Shared Client',
        redirect_uris: [REDIRECT_URI, 'http://127.0.0.1:1/evil'],
      }),
    });
    expect(update.status).toBe(400);
    expect(((await update.json()) as { error_description: string }).error_description).toContain(
      'shared by identical registrations',
    );
  });

  it('rate-limits registrations and token requests per IP on the Keycloak paths (default realm)', async () => {
    // AUTH_REALM unset: the realm is `mcp`; a trailing slash on AUTH_ISSUER is fine.
    // The issuer names the port: another free port when a concurrent test file's server took it.
    const { startOnFreePort } = await import('@gatehouse/testkit');
    const limited = await startOnFreePort((port) =>
      startAuthServer(
        {
          AUTH_COMPAT: 'keycloak',
          AUTH_ISSUER: `http://localhost:${port}/`,
          AUTH_REGISTRATION_RATE_LIMIT: '2',
          AUTH_TOKEN_RATE_LIMIT: '3',
        },
        undefined,
        port,
      ),
    );
    try {
      const urls = keycloakUrls(limited.issuer, 'mcp');
      const metadata = (await (
        await fetch(`${urls.issuer}/.well-known/openid-configuration`)
      ).json()) as Record<string, string>;
      expect(metadata.issuer).toBe(urls.issuer);

      const registrations: number[] = [];
      let last: Awaited<ReturnType<typeof registerAt>> | undefined;
      for (let i = 0; i < 3; i++) {
        last = await registerAt(urls.registration, { client_name: `Client ${i}` });
        registrations.push(last.status);
      }
      expect(registrations).toEqual([201, 201, 429]);
      expect(last?.body.error).toBe('temporarily_unavailable');
      expect(last?.headers.get('retry-after')).toMatch(/^\d+$/);

      const tokenStatuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await postForm(urls.token, {
          grant_type: 'refresh_token',
          refresh_token: 'x',
          client_id: 'y',
        });
        tokenStatuses.push(response.status);
      }
      expect(tokenStatuses.slice(0, 3)).not.toContain(429);
      expect(tokenStatuses[3]).toBe(429);
    } finally {
      await limited.process.stop();
    }
  });
});

describe('configuration', () => {
  const cwd = new URL('..', import.meta.url).pathname;
  const runWithEnv = (env: Record<string, string>) =>
    spawnSync('node', ['--import', 'tsx', 'src/main.ts'], {
      cwd,
      // AUTH_PORT=0: were a rule missing, the server would start on a free port, not collide.
      env: { ...process.env, AUTH_STORE: 'memory', AUTH_PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });

  it.each([
    [{ AUTH_COMPAT: 'bogus' }, 'AUTH_COMPAT must be "none" or "keycloak"'],
    [{ AUTH_COMPAT: 'keycloak', AUTH_REALM: 'my realm' }, 'AUTH_REALM must be a realm name'],
    [{ AUTH_COMPAT: 'keycloak', AUTH_REALM: 'a/b' }, 'AUTH_REALM must be a realm name'],
    [{ AUTH_COMPAT: 'keycloak', AUTH_REALM: '..' }, 'AUTH_REALM must not be "." or ".."'],
    [
      { AUTH_COMPAT: 'keycloak', AUTH_ISSUER: 'http://localhost:4000/auth' },
      'AUTH_ISSUER: with AUTH_COMPAT=keycloak it must be an origin without a path',
    ],
    [{ AUTH_REALM: 'mcp' }, 'AUTH_REALM: only used with AUTH_COMPAT=keycloak'],
    [{ AUTH_COMPAT: 'none', AUTH_REALM: 'mcp' }, 'AUTH_REALM: only used with AUTH_COMPAT=keycloak'],
  ])('stops on bad configuration %j, naming the variable', (env, message) => {
    const result = runWithEnv(env);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
