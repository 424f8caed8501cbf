import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Misconfiguration,
  type MisconfiguredServer,
  type MisconfiguredServerOptions,
  startMisconfiguredServer,
} from '../src/misconfigured-server.js';
import { createPkce } from '../src/pkce.js';

/**
 * The healthy server must pass a strict checker, so it is walked end to end the way an MCP client
 * would; then each misconfiguration flag is shown to have exactly its named effect.
 */

type Json = Record<string, unknown>;
type Server = MisconfiguredServer;
type Params = Record<string, string | undefined>;
type Tokens = { access_token: string; refresh_token: string };
const REDIRECT = 'http://127.0.0.1:9/callback';
/** The registered loopback redirect URI on another port, as RFC 8252 §7.3 allows. */
const CALLBACK = 'http://127.0.0.1:4567/callback';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: MisconfiguredServerOptions = {}): Promise<Server> {
  const server = await startMisconfiguredServer(options);
  servers.push(server);
  return server;
}

const getJson = async (url: string): Promise<Json> => (await fetch(url)).json() as Promise<Json>;
const wellKnown = (server: Server, name: string) => getJson(`${server.origin}/.well-known/${name}`);

const register = (server: Server, body: Json = { redirect_uris: [REDIRECT] }) =>
  fetch(`${server.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The redirect /authorize answers (the test follows none). */
async function authorize(server: Server, clientId: string, params: Params): Promise<URL> {
  const query = Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    code_challenge_method: 'S256',
    state: 'xyz',
    resource: server.mcpUrl,
    scope: 'mcp:tools offline_access',
    ...params,
  }).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const answer = await fetch(`${server.issuer}/authorize?${new URLSearchParams(query)}`, {
    redirect: 'manual',
  });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location') ?? '');
}

const token = (server: Server, form: Record<string, string>) =>
  fetch(`${server.issuer}/token`, { method: 'POST', body: new URLSearchParams(form) });

/** Registration, authorization (S256 unless told otherwise) and code exchange. */
async function login(server: Server, params: Params = {}, pkce = createPkce()) {
  const clientId = ((await (await register(server)).json()) as { client_id: string }).client_id;
  const callback = await authorize(server, clientId, { code_challenge: pkce.challenge, ...params });
  const form = {
    grant_type: 'authorization_code',
    client_id: clientId,
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: CALLBACK,
    code_verifier: pkce.verifier,
  };
  const exchange = await token(server, { ...form, resource: server.mcpUrl });
  expect(exchange.status).toBe(200);
  return { clientId, callback, form, exchange, tokens: (await exchange.json()) as Tokens };
}

const rpc = (server: Server, accessToken: string | undefined, body: Json) =>
  fetch(server.mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', ...body }),
  });
const unauthenticated = (server: Server) => rpc(server, undefined, { id: 1, method: 'initialize' });

/** A refresh-token grant's JSON answer. */
const refresh = async (server: Server, clientId: string, refresh_token: string, scope = '') => {
  const form = { grant_type: 'refresh_token', client_id: clientId, refresh_token };
  return (await token(server, scope ? { ...form, scope } : form)).json() as Promise<Json>;
};

describe('healthy misconfigured-server', () => {
  it('serves metadata, PRM (both URLs) and JWKS with CORS, and a readable challenge', async () => {
    const server = await start();
    const metadata = await wellKnown(server, 'oauth-authorization-server');
    expect(await wellKnown(server, 'openid-configuration')).toEqual(metadata);
    expect(metadata).toMatchObject({
      issuer: server.issuer,
      authorization_endpoint: `${server.issuer}/authorize`,
      registration_endpoint: `${server.issuer}/register`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    for (const path of ['oauth-protected-resource/mcp', 'oauth-protected-resource']) {
      const answer = await fetch(`${server.origin}/.well-known/${path}`);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(await answer.json()).toEqual({
        resource: server.mcpUrl,
        authorization_servers: [server.issuer],
        scopes_supported: ['mcp:tools'],
        bearer_methods_supported: ['header'],
      });
    }
    const jwks = (await getJson(`${server.issuer}/jwks`)) as { keys: Json[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', alg: 'ES256', kid: expect.any(String) });
    expect((await fetch(`${server.origin}/nowhere`)).status).toBe(404);

    const answer = await unauthenticated(server);
    expect(answer.status).toBe(401);
    const prm = `${server.origin}/.well-known/oauth-protected-resource/mcp`;
    expect(answer.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${prm}", scope="mcp:tools"`,
    );
    expect(answer.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
    const preflight = await fetch(server.mcpUrl, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const bad = await rpc(server, 'not-a-jwt', { id: 1, method: 'initialize' });
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", /);
  });

  it('registers public clients only, with acceptable redirect URIs', async () => {
    const server = await start();
    const answer = await register(server, { redirect_uris: [REDIRECT], client_name: 'doctor' });
    expect(answer.status).toBe(201);
    const client = (await answer.json()) as Json;
    expect(client).toMatchObject({ client_name: 'doctor', token_endpoint_auth_method: 'none' });
    expect(client.client_secret).toBeUndefined();
    const refused = await register(server, { redirect_uris: ['http://example.com/cb'] });
    expect(await refused.json()).toMatchObject({ error: 'invalid_redirect_uri' });
    expect((await register(server, { redirect_uris: ['cursor://callback'] })).status).toBe(201);
    const secret = { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' };
    expect(await (await register(server, secret)).json()).toMatchObject({
      error: 'invalid_client_metadata',
    });
  });

  it('walks authorize (S256, resource, iss) -> token (aud = resource) -> MCP', async () => {
    const server = await start();
    const { clientId, callback, form, exchange, tokens } = await login(server);
    expect(callback.searchParams.get('iss')).toBe(server.issuer);
    expect(callback.searchParams.get('state')).toBe('xyz');
    expect(exchange.headers.get('cache-control')).toBe('no-store');
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools offline_access' });
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ iss: server.issuer, aud: server.mcpUrl, client_id: clientId });
    expect(await (await token(server, form)).json()).toMatchObject({ error: 'invalid_grant' });

    const params = { protocolVersion: '2025-11-25', capabilities: {} };
    const bearer = tokens.access_token;
    const init = await rpc(server, bearer, { id: 1, method: 'initialize', params });
    expect(init.headers.get('mcp-session-id')).toBeTruthy();
    expect(await init.json()).toMatchObject({ id: 1, result: { protocolVersion: '2025-11-25' } });
    const notified = await rpc(server, bearer, { method: 'notifications/initialized' });
    expect(notified.status).toBe(202);
    const list = await rpc(server, bearer, { id: 2, method: 'tools/list' });
    expect(await list.json()).toMatchObject({ result: { tools: [{ name: 'echo' }] } });
    expect(server.requests).toContainEqual({ method: 'POST', url: '/token' });
  });

  it('refuses plain PKCE, a missing method, a foreign resource and unknown scopes', async () => {
    const server = await start();
    const { clientId } = await login(server);
    const error = async (params: Params) => {
      const code_challenge = createPkce().challenge;
      const callback = await authorize(server, clientId, { code_challenge, ...params });
      expect(callback.searchParams.get('iss')).toBe(server.issuer);
      return callback.searchParams.get('error');
    };
    expect(await error({ code_challenge_method: 'plain' })).toBe('invalid_request');
    expect(await error({ code_challenge_method: undefined })).toBe('invalid_request');
    expect(await error({ resource: 'https://elsewhere.example/mcp' })).toBe('invalid_target');
    expect(await error({ scope: 'mcp:tools admin' })).toBe('invalid_scope');
    const evil = `${server.issuer}/authorize?client_id=${clientId}&redirect_uri=https://evil.example/`;
    expect((await fetch(evil, { redirect: 'manual' })).status).toBe(400);
  });

  it('rotates refresh tokens, narrows scope, and tolerates a racing reuse within the grace', async () => {
    const server = await start();
    const { clientId, tokens } = await login(server);
    const rotated = await refresh(server, clientId, tokens.refresh_token);
    expect(rotated.refresh_token).toEqual(expect.any(String));
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    const racing = await refresh(server, clientId, tokens.refresh_token);
    expect(racing.access_token).toEqual(expect.any(String));
    const narrowed = await refresh(server, clientId, String(rotated.refresh_token), 'mcp:tools');
    expect(narrowed).toMatchObject({ scope: 'mcp:tools' });
  });

  it('treats reuse after the grace as theft and revokes the grant', async () => {
    const server = await start({ refreshReuseSeconds: 0 });
    const { clientId, tokens } = await login(server);
    const rotated = await refresh(server, clientId, tokens.refresh_token);
    const reuse = await refresh(server, clientId, tokens.refresh_token);
    expect(reuse).toMatchObject({ error: 'invalid_grant' });
    const revoked = await refresh(server, clientId, String(rotated.refresh_token));
    expect(revoked).toMatchObject({ error: 'invalid_grant' });
  });
});

/** Each flag, and the one observable effect it is named for. */
const effects: Record<Misconfiguration, (server: Server) => Promise<void>> = {
  'wrong-resource': async (server) =>
    expect(await wellKnown(server, 'oauth-protected-resource/mcp')).toMatchObject({
      resource: `${server.mcpUrl}/`,
    }),
  'no-resource-metadata': async (server) =>
    expect((await unauthenticated(server)).headers.get('www-authenticate')).toBe(
      'Bearer scope="mcp:tools"',
    ),
  'issuer-mismatch': async (server) =>
    expect(await wellKnown(server, 'oauth-authorization-server')).toMatchObject({
      issuer: `${server.issuer}/`,
      token_endpoint: `${server.issuer}/token`,
    }),
  'no-s256': async (server) => {
    const metadata = await wellKnown(server, 'oauth-authorization-server');
    expect(metadata).not.toHaveProperty('code_challenge_methods_supported');
    await login(server); // S256 still works
  },
  'plain-allowed': async (server) => {
    const { verifier } = createPkce(); // a missing method means plain: challenge = verifier
    await login(server, { code_challenge_method: undefined }, { verifier, challenge: verifier });
  },
  'no-iss-on-callback': async (server) =>
    expect((await login(server)).callback.searchParams.has('iss')).toBe(false),
  'aud-not-resource': async (server) => {
    const { clientId, tokens } = await login(server);
    expect(decodeJwt(tokens.access_token).aud).toBe(clientId);
    const list = await rpc(server, tokens.access_token, { id: 1, method: 'tools/list' });
    expect(list.status).toBe(200);
  },
  'offline-access-in-prm': async (server) =>
    expect(await wellKnown(server, 'oauth-protected-resource')).toMatchObject({
      scopes_supported: ['mcp:tools', 'offline_access'],
    }),
  'cors-no-expose': async (server) => {
    const answer = await unauthenticated(server);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.headers.has('access-control-expose-headers')).toBe(false);
  },
  'no-challenge': async (server) => {
    const answer = await unauthenticated(server);
    expect(answer.status).toBe(401);
    expect(answer.headers.has('www-authenticate')).toBe(false);
    expect((await wellKnown(server, 'oauth-protected-resource')).resource).toBe(server.mcpUrl);
  },
  'secret-for-public-client': async (server) =>
    expect(await (await register(server)).json()).toMatchObject({
      token_endpoint_auth_method: 'none',
      client_secret: expect.any(String),
      client_secret_expires_at: 0,
    }),
};

describe('misconfigurations', () => {
  it.each(Object.entries(effects))('%s', async (flag, effect) => {
    await effect(await start({ misconfigurations: [flag as Misconfiguration] }));
  });
});
