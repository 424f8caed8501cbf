import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createClientAssertionKey, selfSignedCertificate } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, exchangeCode, type RunningServer, startAuthServer } from './support/server.js';

/**
 * Client ID Metadata Documents against a real https document server on loopback. The authorization
 * server trusts its throwaway certificate through NODE_EXTRA_CA_CERTS and, for the positive cases,
 * exempts `localhost` from the private-address guard (AUTH_CIMD_ALLOWED_HOSTS).
 */

const REDIRECT_URI = 'http://127.0.0.1:33418/callback';
let documents: Server;
let base: string;
let fetches = 0;
const served = new Map<
  string,
  { body: unknown; headers?: Record<string, string>; status?: number }
>();
let tls: ReturnType<typeof selfSignedCertificate>;

beforeAll(async () => {
  tls = selfSignedCertificate();
  documents = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    fetches += 1;
    const entry = served.get(req.url ?? '');
    res.writeHead(entry?.status ?? (entry ? 200 : 404), {
      'content-type': 'application/json',
      ...entry?.headers,
    });
    res.end(JSON.stringify(entry?.body ?? {}));
  });
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(documents.address() as AddressInfo).port}`;
});
afterAll(() => documents.close());

function publish(
  path: string,
  overrides: Record<string, unknown> = {},
  headers?: Record<string, string>,
): string {
  const clientId = `${base}${path}`;
  served.set(path, {
    body: {
      client_id: clientId,
      client_name: 'Metadata Document Client',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      ...overrides,
    },
    ...(headers ? { headers } : {}),
  });
  return clientId;
}

describe('Client ID Metadata Documents', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startAuthServer({
      NODE_EXTRA_CA_CERTS: tls.certPath,
      AUTH_CIMD_ALLOWED_HOSTS: 'localhost',
    });
  });
  afterAll(() => server.process.stop());

  it('advertises support in the metadata', async () => {
    const metadata = (await (
      await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.client_id_metadata_document_supported).toBe(true);
  });

  it('never gives client credentials to a client described by a document', async () => {
    // A document anyone can publish, asking for tokens without a user, signed with its own key.
    const signer = await createClientAssertionKey();
    served.set('/machine/jwks.json', { body: signer.jwks });
    const clientId = publish('/machine/client.json', {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${base}/machine/jwks.json`,
    });
    const answer = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'mcp:tools',
        client_id: clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await signer.assertion(clientId, `${server.issuer}/token`),
      }).toString(),
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual({
      error: 'invalid_request',
      error_description: 'requested grant type is not allowed for this client',
    });
  });

  it('runs the full flow for a client identified by its document URL, without registration', async () => {
    const clientId = publish('/clients/tool.json', {}, { 'cache-control': 'max-age=300' });
    const result = await authorize(server.issuer, { clientId, redirectUri: REDIRECT_URI });
    expect(result.pages[1]).toContain('Metadata Document Client');
    const tokens = await exchangeCode(server.issuer, clientId, result);
    expect(tokens.status).toBe(200);
    const payload = JSON.parse(
      Buffer.from(String(tokens.body.access_token).split('.')[1] ?? '', 'base64url').toString(),
    );
    expect(payload.client_id).toBe(clientId);
  });

  it('caches the document by its cache headers', async () => {
    const clientId = publish('/clients/cached.json', {}, { 'cache-control': 'max-age=300' });
    const before = fetches;
    await authorize(server.issuer, { clientId, redirectUri: REDIRECT_URI });
    await authorize(server.issuer, { clientId, redirectUri: REDIRECT_URI });
    expect(fetches - before).toBe(1);
  });

  it.each([
    ['a client_id that differs from the URL', { client_id: 'https://localhost/other.json' }],
    [
      'a shared-secret authentication method',
      { token_endpoint_auth_method: 'client_secret_basic' },
    ],
    ['a client_secret', { client_secret: 'x'.repeat(32) }],
  ])('refuses a document with %s', async (_name, overrides) => {
    const clientId = publish(`/clients/bad-${Math.random().toString(36).slice(2)}.json`, overrides);
    const response = await fetch(
      `${server.issuer}/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: REDIRECT_URI, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`,
      { redirect: 'manual' },
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/invalid_client/);
  });

  it('refuses a redirect URI the document does not list', async () => {
    const clientId = publish('/clients/strict.json');
    const response = await fetch(
      `${server.issuer}/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: 'http://127.0.0.1:9/elsewhere', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`,
      { redirect: 'manual' },
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/redirect_uri/);
  });
});

describe('Client ID Metadata Documents: SSRF guard', () => {
  it('refuses to fetch a document from a loopback address unless the host is explicitly allowed', async () => {
    const server = await startAuthServer({ NODE_EXTRA_CA_CERTS: tls.certPath });
    try {
      const clientId = publish('/clients/guarded.json');
      const before = fetches;
      const response = await fetch(
        `${server.issuer}/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: REDIRECT_URI, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`,
        { redirect: 'manual' },
      );
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/invalid_client/);
      expect(fetches).toBe(before);
    } finally {
      await server.process.stop();
    }
  });
});
