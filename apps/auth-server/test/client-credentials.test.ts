import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  type ClientAssertionKey,
  createClientAssertionKey,
  introspectionClient,
  selfSignedCertificate,
  waitForOutput,
} from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INTROSPECTOR,
  MCP_RESOURCE,
  OTHER_RESOURCE,
  type RunningServer,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

/**
 * Client credentials (the MCP authorization extension for machine-to-machine clients, issue 14):
 * configured clients only, with a secret (header or body) or private_key_jwt (`jwks` or
 * `jwks_uri`); `resource` sets `aud`; the client's `scope` limits what it may ask for; never a
 * refresh token. A client registered by DCR or described by a metadata document never gets it.
 */

const M2M = { client_id: 'nightly-job', client_secret: 'nightly-job-secret-0123456789' };
const ASSERTING = 'signed-job';
const ASSERTING_BY_URI = 'signed-job-uri';

let server: RunningServer;
let key: ClientAssertionKey;
let uriKey: ClientAssertionKey;
let jwksSite: Server;
beforeAll(async () => {
  [key, uriKey] = await Promise.all([createClientAssertionKey(), createClientAssertionKey()]);
  // The job publishes its keys over https (a throwaway certificate the server trusts, on a host
  // exempted from the private-address guard, as for metadata documents).
  const tls = selfSignedCertificate();
  jwksSite = createServer({ cert: tls.cert, key: tls.key }, (_request, response) => {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(uriKey.jwks));
  });
  await new Promise<void>((resolve) => jwksSite.listen(0, '127.0.0.1', resolve));
  const jwksUri = `https://localhost:${(jwksSite.address() as AddressInfo).port}/jwks.json`;
  server = await startAuthServer({
    NODE_EXTRA_CA_CERTS: tls.certPath,
    AUTH_CIMD_ALLOWED_HOSTS: 'localhost',
    AUTH_CLIENTS: JSON.stringify([
      introspectionClient(INTROSPECTOR),
      { ...M2M, scope: 'mcp:tools' },
      { client_id: ASSERTING, token_endpoint_auth_method: 'private_key_jwt', jwks: key.jwks },
      {
        client_id: ASSERTING_BY_URI,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: jwksUri,
      },
    ]),
  });
});
afterAll(async () => {
  await server?.process.stop();
  jwksSite?.close();
});

const claimsOf = (token: unknown) =>
  JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;

const clientCredentials = (params: Record<string, string>, auth?: { id: string; secret: string }) =>
  tokenRequest(server.issuer, { grant_type: 'client_credentials', ...params }, auth);

const assertionParams = async (clientId: string, signer: ClientAssertionKey) => ({
  client_id: clientId,
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: await signer.assertion(clientId, `${server.issuer}/token`),
});

describe('client credentials', () => {
  it('is advertised', async () => {
    const metadata = (await (
      await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as { grant_types_supported: string[] };
    expect(metadata.grant_types_supported).toContain('client_credentials');
  });

  it('issues a JWT for the resource, with the secret in the header or the body, and no refresh token', async () => {
    for (const answer of [
      await clientCredentials(
        { resource: MCP_RESOURCE, scope: 'mcp:tools' },
        {
          id: M2M.client_id,
          secret: M2M.client_secret,
        },
      ),
      await clientCredentials({
        resource: MCP_RESOURCE,
        scope: 'mcp:tools',
        client_id: M2M.client_id,
        client_secret: M2M.client_secret,
      }),
    ]) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.refresh_token).toBeUndefined();
      expect(answer.body.scope).toBe('mcp:tools');
      expect(claimsOf(answer.body.access_token)).toMatchObject({
        aud: MCP_RESOURCE,
        sub: M2M.client_id,
        client_id: M2M.client_id,
        scope: 'mcp:tools',
      });
    }
  });

  it('refuses a wrong secret, a scope the client may not ask for, and an unknown resource', async () => {
    const wrong = await clientCredentials(
      { resource: MCP_RESOURCE, scope: 'mcp:tools' },
      { id: M2M.client_id, secret: 'not-the-secret-of-this-job' },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    // The client hears "client authentication failed"; the log says why, with the request id.
    const requestId = wrong.headers.get('x-request-id') ?? '';
    const logged = (output: string) =>
      output
        .split('\n')
        .find((line) => line.includes(requestId) && line.includes('"event":"grant"'));
    expect(await waitForOutput(server.process, (output) => logged(output) !== undefined)).toBe(
      true,
    );
    expect(JSON.parse(logged(server.process.output()) ?? '{}')).toMatchObject({
      error: 'invalid_client',
      detail: 'invalid secret provided',
      clientId: M2M.client_id,
    });
    expect(server.process.output()).not.toContain('not-the-secret-of-this-job');
    const auth = { id: M2M.client_id, secret: M2M.client_secret };
    const admin = await clientCredentials({ resource: MCP_RESOURCE, scope: 'mcp:admin' }, auth);
    expect(admin.status).toBe(400);
    expect(admin.body.error).toBe('invalid_scope');
    const unknown = await clientCredentials(
      { resource: 'http://localhost:9/nowhere', scope: 'mcp:tools' },
      auth,
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_target');
  });

  it('authenticates private_key_jwt with the jwks configured, or fetched from jwks_uri; refuses another key', async () => {
    const inline = await clientCredentials({
      resource: OTHER_RESOURCE,
      scope: 'api:read',
      ...(await assertionParams(ASSERTING, key)),
    });
    expect(inline.status, JSON.stringify(inline.body)).toBe(200);
    expect(inline.body.scope).toBe('api:read');
    const byUri = await clientCredentials({
      resource: MCP_RESOURCE,
      scope: 'mcp:tools',
      ...(await assertionParams(ASSERTING_BY_URI, uriKey)),
    });
    expect(byUri.status, JSON.stringify(byUri.body)).toBe(200);
    const impostor = await clientCredentials({
      resource: MCP_RESOURCE,
      scope: 'mcp:tools',
      ...(await assertionParams(ASSERTING, uriKey)),
    });
    expect(impostor.status).toBe(401);
    expect(impostor.body.error).toBe('invalid_client');
  });

  it('answers introspection of its tokens: active, the client as subject, no user', async () => {
    const answer = await clientCredentials(
      { resource: MCP_RESOURCE, scope: 'mcp:tools' },
      { id: M2M.client_id, secret: M2M.client_secret },
    );
    const introspection = await fetch(`${server.issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${INTROSPECTOR.id}:${INTROSPECTOR.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: String(answer.body.access_token) }).toString(),
    });
    const body = (await introspection.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ active: true, sub: M2M.client_id, client_id: M2M.client_id });
    expect(body.username).toBeUndefined();
  });

  it('is never given to a client registered by DCR', async () => {
    const registered = await register(server.issuer, {
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      grant_types: ['authorization_code', 'client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(registered.status).toBe(201);
    expect(registered.body.grant_types).toEqual(['authorization_code']);
    const answer = await clientCredentials(
      { resource: MCP_RESOURCE, scope: 'mcp:tools' },
      { id: registered.body.client_id, secret: String(registered.body.client_secret) },
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_request',
      error_description: 'requested grant type is not allowed for this client',
    });
  });
});
