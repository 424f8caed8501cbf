import { createJwtVerifier, discoverAuthorizationServer } from '@gatehouse/auth-core';
import { startOnFreePort } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  exchangeCode,
  MCP_RESOURCE,
  type RunningServer,
  startAuthServer,
} from './support/server.js';

let server: RunningServer;
let issuer: string;

beforeAll(async () => {
  // The issuer names the port: another free port when a concurrent test file's server took it.
  server = await startOnFreePort((port) => {
    issuer = `http://localhost:${port}/tenants/acme`;
    return startAuthServer({ AUTH_ISSUER: issuer, AUTH_PORT: String(port) }, undefined, port);
  });
});
afterAll(() => server.process.stop());

describe('issuer with a path', () => {
  it('serves metadata at every URL MCP clients try, each naming the exact issuer', async () => {
    const origin = new URL(issuer).origin;
    for (const url of [
      `${origin}/.well-known/oauth-authorization-server/tenants/acme`,
      `${origin}/.well-known/openid-configuration/tenants/acme`,
      `${issuer}/.well-known/openid-configuration`,
    ]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      const metadata = (await response.json()) as Record<string, string>;
      expect(metadata.issuer).toBe(issuer);
      expect(metadata.token_endpoint).toBe(`${issuer}/token`);
      expect(metadata.registration_endpoint).toBe(`${issuer}/reg`);
    }
    expect((await discoverAuthorizationServer(issuer)).jwks_uri).toBe(`${issuer}/jwks`);
  });

  it('runs the full flow under the path', async () => {
    const reg = await fetch(`${issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Path Client',
        redirect_uris: ['http://127.0.0.1:33418/callback'],
      }),
    });
    const { client_id: clientId } = (await reg.json()) as { client_id: string };
    const result = await authorize(issuer, { clientId });
    expect(result.callback.searchParams.get('iss')).toBe(issuer);
    const tokens = await exchangeCode(issuer, clientId, result);
    const verifier = createJwtVerifier({
      issuer,
      audience: MCP_RESOURCE,
      jwksUri: `${issuer}/jwks`,
    });
    await expect(verifier.verify(String(tokens.body.access_token))).resolves.toMatchObject({
      subject: 'alice',
    });
  });

  it('does not serve the root discovery document for another issuer', async () => {
    const response = await fetch(
      `${new URL(issuer).origin}/.well-known/oauth-authorization-server`,
    );
    expect(response.status).toBe(404);
  });
});
