// node:sqlite (built into Node) reads the server's file: the test worker loads no native addon.
import { DatabaseSync } from 'node:sqlite';
import { waitForOutput } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  exchangeCode,
  type RunningServer,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

function storedClients(dbPath: string): number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return (
      db.prepare("SELECT COUNT(*) AS n FROM oidc_models WHERE model = 'Client'").get() as {
        n: number;
      }
    ).n;
  } finally {
    db.close();
  }
}

describe('registration hygiene', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startAuthServer({ AUTH_REGISTRATION_RATE_LIMIT: '1000' });
  });
  afterAll(() => server.process.stop());

  it('recognises 100 identical registrations as one client', async () => {
    const before = storedClients(server.dbPath);
    const metadata = {
      client_name: 'Identical Tool',
      redirect_uris: ['http://127.0.0.1:40000/callback'],
    };
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const { status, body } = await register(server.issuer, metadata);
      expect(status).toBe(201);
      ids.add(body.client_id);
    }
    expect(ids.size).toBe(1);
    expect(storedClients(server.dbPath) - before).toBe(1);
  });

  it('registers a client that names no token_endpoint_auth_method as public, without a client_secret', async () => {
    // The reproduction; the MCP Go SDK registers this way, then sends any secret it got.
    for (let i = 0; i < 2; i++) {
      const { status, body } = await register(server.issuer, {
        client_name: 'No Auth Method',
        redirect_uris: ['http://localhost/callback'],
      });
      expect(status).toBe(201);
      expect(body.token_endpoint_auth_method).toBe('none');
      expect(body).not.toHaveProperty('client_secret');
      expect(body).not.toHaveProperty('client_secret_expires_at');
    }
    // Registering `none` explicitly is the same registration (one client).
    const a = await register(server.issuer, { client_name: 'Same Either Way' });
    const b = await register(server.issuer, {
      client_name: 'Same Either Way',
      token_endpoint_auth_method: 'none',
    });
    expect(a.body.client_id).toBe(b.body.client_id);
    // It completes the flow with its client_id alone.
    const tokens = await exchangeCode(
      server.issuer,
      a.body.client_id,
      await authorize(server.issuer, { clientId: a.body.client_id }),
    );
    expect(tokens.status).toBe(200);
  });

  it('registers only the grant and response types it offers, says so in the answer, and logs what it dropped', async () => {
    const { status, body } = await register(server.issuer, {
      client_name: 'Extra Grants',
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
      ],
      response_types: ['code', 'token'],
    });
    expect(status).toBe(201);
    expect(body.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(body.response_types).toEqual(['code']);
    const dropped = 'values this server does not support';
    await waitForOutput(server.process, (output) => output.includes(dropped));
    const line = server.process
      .output()
      .split('\n')
      .find((l) => l.includes(dropped));
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      dropped: {
        grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
        response_types: ['token'],
      },
    });
    const tokens = await exchangeCode(
      server.issuer,
      body.client_id,
      await authorize(server.issuer, { clientId: body.client_id }),
    );
    expect(tokens.status).toBe(200);
    const refreshed = await tokenRequest(server.issuer, {
      grant_type: 'refresh_token',
      client_id: body.client_id,
      refresh_token: String(tokens.body.refresh_token),
    });
    expect(refreshed.status).toBe(200);
  });

  it('refuses a registration that asks only for grants it does not offer', async () => {
    const { status, body } = await register(server.issuer, {
      grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
    });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_client_metadata');
    expect(body.error_description).toContain('authorization_code');
  });

  it('treats registrations that differ only in the loopback port as identical', async () => {
    const a = await register(server.issuer, {
      client_name: 'Port Hopper',
      redirect_uris: ['http://localhost:50001/callback'],
    });
    const b = await register(server.issuer, {
      client_name: 'Port Hopper',
      redirect_uris: ['http://localhost:50002/callback'],
    });
    expect(a.body.client_id).toBe(b.body.client_id);
  });

  it('keeps registrations with different metadata apart', async () => {
    const a = await register(server.issuer, { client_name: 'Tool A' });
    const b = await register(server.issuer, { client_name: 'Tool B' });
    expect(a.body.client_id).not.toBe(b.body.client_id);
  });

  it('never shares a confidential client', async () => {
    const metadata = {
      client_name: 'Confidential',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['https://app.example.com/cb'],
    };
    const a = await register(server.issuer, metadata);
    const b = await register(server.issuer, metadata);
    expect(a.body.client_id).not.toBe(b.body.client_id);
    expect(a.body.client_secret).toBeTruthy();
  });

  it('refuses RFC 7592 updates and deletes of a shared client, but reads it', async () => {
    const { body } = await register(server.issuer, { client_name: 'Shared' });
    const uri = String(body.registration_client_uri);
    const auth = { authorization: `Bearer ${body.registration_access_token}` };
    expect((await fetch(uri, { headers: auth })).status).toBe(200);
    const update = await fetch(uri, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: body.client_id,
        redirect_uris: ['https://evil.example.com/cb'],
      }),
    });
    expect(update.status).toBe(400);
    expect(((await update.json()) as { error: string }).error).toBe('invalid_request');
    expect((await fetch(uri, { method: 'DELETE', headers: auth })).status).toBe(400);
  });

  it('lets the owner of a confidential client manage it (RFC 7592)', async () => {
    const { body } = await register(server.issuer, {
      client_name: 'Managed',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['https://app.example.com/cb'],
    });
    const deleted = await fetch(String(body.registration_client_uri), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${body.registration_access_token}` },
    });
    expect(deleted.status).toBe(204);
  });
});

describe('registration limits', () => {
  it('rate-limits registrations per IP with 429 and Retry-After', async () => {
    const server = await startAuthServer({ AUTH_REGISTRATION_RATE_LIMIT: '3' });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${server.issuer}/reg`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            client_name: `Tool ${i}`,
            redirect_uris: ['http://127.0.0.1:1/cb'],
          }),
        });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([201, 201, 201, 429]);
      if (!last) throw new Error('no response');
      expect(last.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await last.json()) as { error_description: string }).error_description).toContain(
        'Too many client registrations',
      );
    } finally {
      await server.process.stop();
    }
  });

  it('counts only registrations that create a client; repeats have a wider flood limit', async () => {
    const server = await startAuthServer({ AUTH_REGISTRATION_RATE_LIMIT: '3' });
    try {
      // A developer restarting a client 30 times: one client, never locked out.
      const restarts: number[] = [];
      for (let i = 0; i < 30; i++)
        restarts.push((await register(server.issuer, { client_name: 'Restarted' })).status);
      expect(restarts.every((status) => status === 201)).toBe(true);
      // New clients still have their budget: the first registration created one of three.
      expect((await register(server.issuer, { client_name: 'New 1' })).status).toBe(201);
      expect((await register(server.issuer, { client_name: 'New 2' })).status).toBe(201);
      expect((await register(server.issuer, { client_name: 'New 3' })).status).toBe(429);
      // Repeats are limited too, at 20 times the limit per 10 minutes: 60 here, 29 used above.
      const flood: number[] = [];
      for (let i = 0; i < 32; i++)
        flood.push((await register(server.issuer, { client_name: 'Restarted' })).status);
      expect(flood.slice(0, 31).every((status) => status === 201)).toBe(true);
      expect(flood[31]).toBe(429);
    } finally {
      await server.process.stop();
    }
  });

  it('refuses new clients past AUTH_MAX_CLIENTS with a clear error', async () => {
    const server = await startAuthServer({ AUTH_MAX_CLIENTS: '2' });
    try {
      expect((await register(server.issuer, { client_name: 'One' })).status).toBe(201);
      expect((await register(server.issuer, { client_name: 'Two' })).status).toBe(201);
      const third = await register(server.issuer, { client_name: 'Three' });
      expect(third.status).toBe(503);
      expect(third.body.error_description).toContain('AUTH_MAX_CLIENTS');
      // An existing client registering again adds nothing, so it is not refused.
      expect((await register(server.issuer, { client_name: 'One' })).status).toBe(201);
    } finally {
      await server.process.stop();
    }
  });

  it('reaps clients unused for AUTH_CLIENT_IDLE_TTL; they then get invalid_client', async () => {
    const server = await startAuthServer({ AUTH_CLIENT_IDLE_TTL: '2' });
    try {
      const clientId = (await register(server.issuer)).body.client_id;
      const tokens = await exchangeCode(
        server.issuer,
        clientId,
        await authorize(server.issuer, { clientId }),
      );
      expect(tokens.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const refresh = await tokenRequest(server.issuer, {
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: String(tokens.body.refresh_token),
      });
      expect(refresh.status).toBe(401);
      expect(refresh.body.error).toBe('invalid_client');
      expect(storedClients(server.dbPath)).toBe(0);
    } finally {
      await server.process.stop();
    }
  });
});
