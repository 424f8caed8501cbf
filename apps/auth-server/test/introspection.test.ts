import { createDpopHolder, createDpopProof, introspectionClient } from '@gatehouse/testkit';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApp } from './support/run.js';
import {
  authorize,
  INTROSPECTOR,
  MCP_RESOURCE,
  REDIRECT_URI,
  type RunningServer,
  refreshRequest,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

/**
 * RFC 7662 introspection of our own JWT access tokens (issue 14), answered as Keycloak answers a
 * resource server, and who may introspect what: a configured client (a resource server) any token,
 * an authenticated client its own tokens, a public client nothing.
 */

type Answer = Record<string, unknown>;

const MINIMAL = { client_id: 'test-client', client_secret: 'tutorial-client-secret-0123' };
/** Characters that Basic authentication must form-encode (RFC 6749 §2.3.1). */
const SPECIAL = { client_id: 'rs:reports', client_secret: 'p@ss:w+rd%/ secret-0123456789' };

let server: RunningServer;
let other: RunningServer;
beforeAll(async () => {
  [server, other] = await Promise.all([
    startAuthServer({
      // The introspecting resource server, plus one configured as the tutorial configures
      // Keycloak's: a client id and a secret, nothing else.
      AUTH_CLIENTS: JSON.stringify([introspectionClient(INTROSPECTOR), MINIMAL, SPECIAL]),
      AUTH_ACCESS_TOKEN_TTL: '4',
      AUTH_REFRESH_REUSE_INTERVAL: '0',
      AUTH_KEY_REFRESH_INTERVAL: '1',
    }),
    startAuthServer(),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.process.stop(), other?.process.stop()]);
});

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

async function introspect(
  on: RunningServer,
  token: unknown,
  auth: Record<string, string> = basic(INTROSPECTOR.id, INTROSPECTOR.secret),
  body: Record<string, string> = {},
): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${on.issuer}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
    body: new URLSearchParams({ token: String(token), ...body }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

/** RFC 7009 revocation at `server`, authenticated by `auth` headers and/or `body` fields. */
const revoke = (
  token: unknown,
  auth: Record<string, string> = {},
  body: Record<string, string> = {},
) =>
  fetch(`${server.issuer}/token/revocation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
    body: new URLSearchParams({ token: String(token), ...body }).toString(),
  });

/** A public client's first tokens for the MCP resource (a JWT access token and a refresh token). */
async function signIn(
  on: RunningServer,
  metadata: Record<string, unknown> = {},
  scope = 'mcp:tools',
) {
  const registered = await register(on.issuer, metadata);
  const clientId = registered.body.client_id;
  const result = await authorize(on.issuer, { clientId, scope });
  const secret = registered.body.client_secret as string | undefined;
  const tokens = await tokenRequest(
    on.issuer,
    {
      grant_type: 'authorization_code',
      code: result.callback.searchParams.get('code') ?? '',
      redirect_uri: 'http://127.0.0.1:33418/callback',
      code_verifier: result.verifier,
      resource: MCP_RESOURCE,
      ...(secret ? {} : { client_id: clientId }),
    },
    secret ? { id: clientId, secret } : undefined,
  );
  expect(tokens.status).toBe(200);
  return { clientId, secret, tokens: tokens.body };
}

describe('introspection of JWT access tokens', () => {
  it("answers an active JWT with Keycloak's fields", async () => {
    const { clientId, tokens } = await signIn(server);
    const accessToken = String(tokens.access_token);
    expect(accessToken.split('.')).toHaveLength(3);
    const { status, body } = await introspect(server, accessToken);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      active: true,
      iss: server.issuer,
      sub: 'alice',
      username: 'alice',
      client_id: clientId,
      aud: MCP_RESOURCE,
      scope: 'mcp:tools',
      token_type: 'Bearer',
    });
    expect(body.exp).toBeTypeOf('number');
    expect(body.iat).toBeTypeOf('number');
    // With a token_type_hint too, and by client_secret_post.
    const posted = await introspect(
      server,
      accessToken,
      {},
      {
        token_type_hint: 'access_token',
        client_id: INTROSPECTOR.id,
        client_secret: INTROSPECTOR.secret,
      },
    );
    expect(posted.body.active).toBe(true);
  });

  it('answers a DPoP-bound JWT as DPoP, with its key thumbprint', async () => {
    const holder = await createDpopHolder();
    const registered = await register(server.issuer);
    const clientId = registered.body.client_id;
    const result = await authorize(server.issuer, { clientId, scope: 'mcp:tools' });
    const tokenUrl = `${server.issuer}/token`;
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await createDpopProof(holder, '', { htu: tokenUrl, claims: { ath: undefined } }),
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code: result.callback.searchParams.get('code') ?? '',
        redirect_uri: 'http://127.0.0.1:33418/callback',
        code_verifier: result.verifier,
        resource: MCP_RESOURCE,
      }).toString(),
    });
    const tokens = (await response.json()) as Answer;
    expect(tokens.token_type, JSON.stringify(tokens)).toBe('DPoP');
    expect((await introspect(server, tokens.access_token)).body).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: holder.jkt },
    });
  });

  it('answers inactive for an expired, tampered or foreign JWT', async () => {
    const { tokens } = await signIn(server);
    const accessToken = String(tokens.access_token);
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(String(payload), 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'mcp:tools mcp:admin' })).toString('base64url')}.${signature}`;
    expect((await introspect(server, tampered)).body).toEqual({ active: false });
    // Another issuer's token for the same resource (its own keys).
    const foreign = await signIn(other);
    expect((await introspect(server, foreign.tokens.access_token)).body).toEqual({
      active: false,
    });
    // Not a token at all, but shaped like one.
    expect((await introspect(server, 'a.b.c')).body).toEqual({ active: false });
    // Expired: the access token lives 4 s here, and the issuer allows no leeway on its own tokens.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await introspect(server, accessToken)).body).toEqual({ active: false });
  });

  it('answers inactive at once when the grant is revoked, or revoked for refresh-token reuse', async () => {
    const revoked = await signIn(server);
    expect((await introspect(server, revoked.tokens.access_token)).body.active).toBe(true);
    const revocation = await revoke(
      revoked.tokens.refresh_token,
      {},
      { client_id: revoked.clientId },
    );
    expect(revocation.status).toBe(200);
    expect((await introspect(server, revoked.tokens.access_token)).body).toEqual({
      active: false,
    });

    const reused = await signIn(server);
    const first = await refreshRequest(server.issuer, reused.clientId, reused.tokens.refresh_token);
    expect(first.status).toBe(200);
    expect((await introspect(server, first.body.access_token)).body.active).toBe(true);
    // The rotated-out refresh token again (no reuse interval here): the whole grant is revoked.
    const replay = await refreshRequest(
      server.issuer,
      reused.clientId,
      reused.tokens.refresh_token,
    );
    expect(replay.body.error).toBe('invalid_grant');
    expect((await introspect(server, first.body.access_token)).body).toEqual({ active: false });
    expect((await introspect(server, reused.tokens.access_token)).body).toEqual({
      active: false,
    });
  });

  it('revokes the grant of a JWT revoked by its own client, and refuses another client', async () => {
    const user = await signIn(server);
    const stranger = await revoke(
      user.tokens.access_token,
      basic(MINIMAL.client_id, MINIMAL.client_secret),
      {},
    );
    expect(stranger.status).toBe(400);
    expect(((await stranger.json()) as Answer).error).toBe('invalid_request');
    expect((await introspect(server, user.tokens.access_token)).body.active).toBe(true);

    const own = await revoke(user.tokens.access_token, {}, { client_id: user.clientId });
    expect(own.status).toBe(200);
    expect((await introspect(server, user.tokens.access_token)).body).toEqual({ active: false });
    const refresh = await refreshRequest(server.issuer, user.clientId, user.tokens.refresh_token);
    expect(refresh.body.error).toBe('invalid_grant');
    // A JWT that is not ours (or no longer valid) is no error (RFC 7009 §2.2).
    const foreign = await signIn(other);
    const unknown = await revoke(foreign.tokens.access_token, {}, { client_id: user.clientId });
    expect(unknown.status).toBe(200);
  });

  it('keeps JWTs signed with a retired key active while that key is published, and no longer', async () => {
    // Its own server: the suite's 4 s access tokens could expire while the new keys are picked up.
    const keyed = await startAuthServer({
      AUTH_CLIENTS: JSON.stringify([introspectionClient(INTROSPECTOR)]),
      AUTH_KEY_REFRESH_INTERVAL: '1',
    });
    try {
      const { tokens } = await signIn(keyed);
      const kid = (token: unknown) =>
        JSON.parse(Buffer.from(String(token).split('.')[0] ?? '', 'base64url').toString()).kid;
      const rotated = await runApp('src/cli.ts', ['keys', 'rotate'], { env: keyed.env });
      expect(rotated.status, rotated.stderr).toBe(0);
      // The server picks up the new keys within AUTH_KEY_REFRESH_INTERVAL (1 s here).
      let fresh = tokens;
      for (
        let attempt = 0;
        attempt < 40 && kid(fresh.access_token) === kid(tokens.access_token);
        attempt++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        fresh = (await signIn(keyed)).tokens;
      }
      expect(kid(fresh.access_token)).not.toBe(kid(tokens.access_token));
      expect((await introspect(keyed, tokens.access_token)).body.active).toBe(true);
      expect((await introspect(keyed, fresh.access_token)).body.active).toBe(true);

      // The server deletes a retired key an hour after the access tokens it signed expire
      // (keys/keystore.ts); done here in the store, as that clean-up does. Once the key is no longer
      // published, its tokens are no longer active.
      const db = new Database(keyed.dbPath);
      db.prepare('DELETE FROM signing_keys WHERE retired_at IS NOT NULL').run();
      db.close();
      const published = async () =>
        (
          (await (await fetch(`${keyed.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }
        ).keys.map((key) => key.kid);
      for (
        let attempt = 0;
        attempt < 40 && (await published()).includes(kid(tokens.access_token));
        attempt++
      )
        await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await published()).not.toContain(kid(tokens.access_token));
      expect((await introspect(keyed, tokens.access_token)).body).toEqual({ active: false });
      expect((await introspect(keyed, fresh.access_token)).body.active).toBe(true);
    } finally {
      await keyed.process.stop();
    }
  });
});

describe('a configured client with only client_id and client_secret', () => {
  it('introspects (secret in the header or the body) and is authenticated at revocation', async () => {
    const { tokens } = await signIn(server);
    for (const auth of [
      [basic(MINIMAL.client_id, MINIMAL.client_secret), {}],
      [{}, { client_id: MINIMAL.client_id, client_secret: MINIMAL.client_secret }],
    ] as const) {
      const answer = await introspect(server, tokens.access_token, auth[0], auth[1]);
      expect(answer.body).toMatchObject({ active: true, username: 'alice' });
    }
    // Authenticated, so told plainly it may not revoke another client's token (not invalid_client).
    const revocation = await revoke(
      tokens.refresh_token,
      basic(MINIMAL.client_id, MINIMAL.client_secret),
    );
    expect(revocation.status).toBe(400);
    expect(((await revocation.json()) as Answer).error).toBe('invalid_request');
  });
});

describe('configured clients authenticated ahead of the provider (configured-client-auth.ts)', () => {
  const formEncoded = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  const encodedBasic = (id: string, secret: string) => ({
    authorization: `Basic ${Buffer.from(`${formEncoded(id)}:${formEncoded(secret)}`).toString('base64')}`,
  });
  const errorOf = (answer: { status: number; body: Answer }) => [answer.status, answer.body.error];

  it('accepts what the provider accepts: form-encoded Basic, the secret in the body, the id in both places', async () => {
    const { tokens } = await signIn(server);
    for (const [auth, body] of [
      [encodedBasic(SPECIAL.client_id, SPECIAL.client_secret), {}],
      [{}, SPECIAL],
      [basic(MINIMAL.client_id, MINIMAL.client_secret), { client_id: MINIMAL.client_id }],
    ] as const)
      expect((await introspect(server, tokens.access_token, auth, body)).body).toMatchObject({
        active: true,
        username: 'alice',
      });
  });

  it("refuses, with the provider's own errors, what the provider refuses, even with the right secret", async () => {
    const { tokens } = await signIn(server);
    const token = tokens.access_token;
    const right = basic(MINIMAL.client_id, MINIMAL.client_secret);
    const cases: Array<[string, Record<string, string>, Record<string, string>, number, string]> = [
      [
        'a wrong secret in the header',
        basic(MINIMAL.client_id, 'wrong-secret'),
        {},
        401,
        'invalid_client',
      ],
      [
        'a wrong secret in the body',
        {},
        { ...MINIMAL, client_secret: 'wrong' },
        401,
        'invalid_client',
      ],
      [
        'both mechanisms at once',
        right,
        { client_secret: MINIMAL.client_secret },
        400,
        'invalid_request',
      ],
      [
        'another client_id in the body',
        right,
        { client_id: INTROSPECTOR.id },
        400,
        'invalid_request',
      ],
      [
        'Basic with padding its length does not allow',
        { authorization: `${right.authorization}===` },
        {},
        400,
        'invalid_request',
      ],
      // Not form-encoded: `%/` is no escape, so the provider cannot decode it.
      [
        'Basic with the special characters not form-encoded',
        basic(SPECIAL.client_id, SPECIAL.client_secret),
        {},
        400,
        'invalid_request',
      ],
      // A page may not use a resource server's secret: CORS stays the provider's.
      [
        'a browser Origin',
        { ...right, origin: 'http://127.0.0.1:33418' },
        {},
        400,
        'invalid_request',
      ],
    ];
    for (const [name, auth, body, status, error] of cases)
      expect(errorOf(await introspect(server, token, auth, body)), name).toEqual([status, error]);
    // The token twice: a repeated parameter is refused.
    const repeated = await fetch(`${server.issuer}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...right },
      body: `token=${token}&token=${token}`,
    });
    expect(repeated.status).toBe(400);
  });
});

describe('who may introspect', () => {
  it('a configured client any token; a registered confidential client only its own; a public client nothing', async () => {
    const publicUser = await signIn(server);
    const confidential = await signIn(server, {
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(confidential.secret).toBeTypeOf('string');
    const own = basic(confidential.clientId, String(confidential.secret));
    for (const token of [publicUser.tokens.access_token, publicUser.tokens.refresh_token]) {
      // The resource server configured in AUTH_CLIENTS: yes.
      expect((await introspect(server, token)).body.active).toBe(true);
      // Another client, though authenticated: it learns nothing.
      expect((await introspect(server, token, own)).body).toEqual({ active: false });
      // The token's own client, but public (unauthenticated): nothing either.
      expect(
        (await introspect(server, token, {}, { client_id: publicUser.clientId })).body,
      ).toEqual({ active: false });
    }
    // A confidential client may introspect its own tokens (JWT and refresh token).
    for (const token of [confidential.tokens.access_token, confidential.tokens.refresh_token])
      expect((await introspect(server, token, own)).body).toMatchObject({
        active: true,
        client_id: confidential.clientId,
        username: 'alice',
      });
    // A wrong secret is refused outright, JWT or not.
    const wrong = await introspect(
      server,
      confidential.tokens.access_token,
      basic(confidential.clientId, 'wrong-secret-wrong-secret'),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
  });
});

describe('UserInfo for JWT access tokens bound to a resource', () => {
  const userinfo = (token: unknown) =>
    fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${String(token)}` } });

  it('answers the claims the grant allows when the token was issued with openid', async () => {
    const plain = await signIn(server, {}, 'openid mcp:tools');
    const answer = await userinfo(plain.tokens.access_token);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ sub: 'alice' });
    const profile = await signIn(server, {}, 'openid profile mcp:tools');
    expect(await (await userinfo(profile.tokens.access_token)).json()).toEqual({
      sub: 'alice',
      preferred_username: 'alice',
    });
  });

  it('refuses a token of a grant without openid (403), and one whose grant is revoked (401)', async () => {
    // Its own client: consent given to a client carries over to its later grants (issue 12).
    const without = await signIn(server, { client_name: 'no identity asked' });
    const refused = await userinfo(without.tokens.access_token);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    const revoked = await signIn(server, {}, 'openid mcp:tools');
    expect(
      (await revoke(revoked.tokens.refresh_token, {}, { client_id: revoked.clientId })).status,
    ).toBe(200);
    const gone = await userinfo(revoked.tokens.access_token);
    expect(gone.status).toBe(401);
    expect(gone.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it("answers a browser client from its redirect URI's origin with CORS headers, and refuses other origins, as the provider does on its routes", async () => {
    const fromOrigin = (token: unknown, origin: string) =>
      fetch(`${server.issuer}/me`, {
        headers: { authorization: `Bearer ${String(token)}`, origin },
      });
    const ownOrigin = new URL(REDIRECT_URI).origin;
    const plain = await signIn(server, {}, 'openid mcp:tools');
    const own = await fromOrigin(plain.tokens.access_token, ownOrigin);
    expect(own.status).toBe(200);
    expect(own.headers.get('access-control-allow-origin')).toBe(ownOrigin);
    expect(own.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
    expect(own.headers.get('vary')).toMatch(/origin/i);
    // The challenge of a token without openid is readable by the page too.
    const without = await signIn(server, { client_name: 'browser client without openid' });
    const refused = await fromOrigin(without.tokens.access_token, ownOrigin);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe(ownOrigin);
    // Another page may not read the user's claims with a token it got hold of.
    const other = await fromOrigin(plain.tokens.access_token, 'https://other.example');
    expect(other.status).toBe(400);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await other.json()).error).toBe('invalid_request');
  });
});
