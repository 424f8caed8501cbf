import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJwtVerifier } from '@gatehouse/auth-core';
import {
  createPkce,
  freePort,
  parseForms,
  type RunningRedis,
  type StartedProcess,
  startAuthServerApp,
  startOnFreePort,
  startOnFreePorts,
  startRedis,
  UserAgent,
  waitForOutput,
} from '@gatehouse/testkit';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApp } from './support/run.js';
import {
  arriveTogether,
  authorize,
  authServerEnv,
  exchangeCode,
  INTROSPECTOR,
  MCP_RESOURCE,
  OTHER_RESOURCE,
  REDIRECT_URI,
  refreshRequest,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

/**
 * AUTH_STORE=redis://: real authorization-server processes on a real redis-server. Two instances
 * share one issuer and one Redis; a flow hops between them. (The round-robin proxy and the MCP
 * servers of the full multi-instance setup come with the rest of issue #6.)
 */

let redis: RunningRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

/**
 * An instance listening on `port` for the issuer at `issuerPort` (several instances, one issuer),
 * on the suite's Redis unless `redisUrl` says otherwise.
 */
function startInstance(
  issuerPort: number,
  port: number,
  options: { redisUrl?: string; env?: Record<string, string> } = {},
): Promise<StartedProcess> {
  return startAuthServerApp({
    port,
    env: {
      ...authServerEnv(`http://localhost:${issuerPort}`, options.redisUrl ?? redis.url),
      ...options.env,
    },
  });
}

/**
 * Two instances of one issuer (A's address) on fresh ports, A first: fresh ports for both when
 * either was taken meanwhile.
 */
function startPair(options: { redisUrl?: string; env?: Record<string, string> } = {}) {
  return startOnFreePorts(2, async ([portA, portB]) => {
    const a = await startInstance(portA, portA, options);
    try {
      const b = await startInstance(portA, portB, options);
      return { portA, portB, a, b, A: `http://localhost:${portA}`, B: `http://localhost:${portB}` };
    } catch (error) {
      await a.stop();
      throw error;
    }
  });
}

/** A refresh-token grant as a public client sends it. */
const refresh = (base: string, clientId: string, refreshToken: unknown) =>
  refreshRequest(base, clientId, refreshToken);

describe('auth-server on Redis', () => {
  it('runs a flow across two instances: register on B, sign in on A, exchange on B, refresh on A; a replay on B after the reuse interval revokes the family for A', async () => {
    const { a, b, A, B } = await startPair({ env: { AUTH_REFRESH_REUSE_INTERVAL: '1' } });
    try {
      const clientId = (await register(B)).body.client_id;
      expect(clientId).toBeTruthy();
      const signedIn = await authorize(A, { clientId });
      const tokens = await exchangeCode(B, clientId, signedIn);
      expect(tokens.status).toBe(200);
      const refreshed = await refresh(A, clientId, tokens.body.refresh_token);
      expect(refreshed.status).toBe(200);
      // Both publish the same keys (one key set in Redis).
      const jwks = async (base: string) => (await fetch(`${base}/jwks`)).json();
      expect(await jwks(B)).toEqual(await jwks(A));
      // Presented again on B after the interval, the rotated-out token is reuse: the grant is
      // revoked for every instance.
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const reuse = await refresh(B, clientId, tokens.body.refresh_token);
      expect(reuse.status).toBe(400);
      const afterReuse = await refresh(A, clientId, refreshed.body.refresh_token);
      expect(afterReuse.status).toBe(400);
      expect(afterReuse.body.error).toBe('invalid_grant');
      await waitForOutput(b, (output) => output.includes('refresh_token_reuse'));
      expect(b.output()).toContain('"event":"refresh_token_reuse"');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('answers racing refreshes with one token on both instances with working tokens (no reuse revocation)', async () => {
    const { a, b, A, B } = await startPair();
    try {
      const clientId = (await register(A)).body.client_id;
      let current = await exchangeCode(A, clientId, await authorize(A, { clientId }));
      for (let trial = 0; trial < 10; trial++) {
        // In flight at once on both instances, then once more on B after both finished.
        const racing = await Promise.all([
          refresh(A, clientId, current.body.refresh_token),
          refresh(B, clientId, current.body.refresh_token),
        ]);
        const late = await refresh(B, clientId, current.body.refresh_token);
        for (const answer of [...racing, late]) {
          expect(answer.status, `trial ${trial}: ${answer.body.error}`).toBe(200);
          const next = await refresh(trial % 2 ? A : B, clientId, answer.body.refresh_token);
          expect(next.status, `trial ${trial}: a racer's refresh token`).toBe(200);
          current = next;
        }
      }
      // Deterministically in flight at once: both instances paused while the requests arrive.
      for (let trial = 0; trial < 3; trial++) {
        const pids = [a, b].map((instance) => instance.child.pid as number);
        const answers = await arriveTogether(pids, () =>
          [A, B].map((base) => refresh(base, clientId, current.body.refresh_token)),
        );
        for (const answer of answers) {
          expect(answer.status, `paused trial ${trial}: ${answer.body.error}`).toBe(200);
          const next = await refresh(A, clientId, answer.body.refresh_token);
          expect(next.status).toBe(200);
          current = next;
        }
      }
      expect(a.output() + b.output()).not.toContain('refresh_token_reuse');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('keeps clients, users, keys and refresh tokens when every instance is killed and one restarts', async () => {
    const { port, first } = await startOnFreePort(async (port) => ({
      port,
      first: await startInstance(port, port),
    }));
    const base = `http://localhost:${port}`;
    const clientId = (await register(base)).body.client_id;
    const tokens = await exchangeCode(base, clientId, await authorize(base, { clientId }));
    const jwksBefore = await (await fetch(`${base}/jwks`)).json();
    await first.stop('SIGKILL');
    const second = await startInstance(port, port);
    try {
      expect(await (await fetch(`${base}/jwks`)).json()).toEqual(jwksBefore);
      const refreshed = await refresh(base, clientId, tokens.body.refresh_token);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.access_token).toBeTruthy();
    } finally {
      await second.stop();
    }
  });

  it('introspects an opaque token issued by the other instance, and sees its revocation', async () => {
    const { a, b, A, B } = await startPair();
    const other = OTHER_RESOURCE;
    try {
      const clientId = (await register(A)).body.client_id;
      const result = await authorize(A, { clientId, resource: other, scope: 'api:read' });
      const tokens = await exchangeCode(A, clientId, result, { resource: other });
      expect(tokens.status).toBe(200);
      const introspect = async (base: string) =>
        (
          await tokenRequestAt(`${base}/token/introspection`, {
            token: String(tokens.body.access_token),
          })
        ).active;
      expect(await introspect(B)).toBe(true);
      const revoked = await fetch(`${A}/token/revocation`, {
        method: 'POST',
        body: new URLSearchParams({ token: String(tokens.body.access_token), client_id: clientId }),
      });
      expect(revoked.status).toBe(200);
      expect(await introspect(B)).toBe(false);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('creates one key per algorithm when two instances start at once on an empty Redis', async () => {
    const own = await startRedis();
    // Both at once (the race under test), so a taken port fails the test rather than being retried.
    const { port, other, a, b } = await startOnFreePorts(2, async ([port, other]) => {
      const start = (listen: number) => startInstance(port, listen, { redisUrl: own.url });
      const started = await Promise.allSettled([start(port), start(other)]);
      const [a, b] = started.map((result) => (result.status === 'fulfilled' ? result.value : null));
      const failed = started.find((result) => result.status === 'rejected');
      if (failed || !a || !b) {
        await Promise.all([a?.stop(), b?.stop()]);
        throw (failed as PromiseRejectedResult).reason;
      }
      return { port, other, a, b };
    });
    try {
      const jwks = async (listen: number) =>
        (await (await fetch(`http://localhost:${listen}/jwks`)).json()) as {
          keys: Array<{ alg: string }>;
        };
      const [fromA, fromB] = [await jwks(port), await jwks(other)];
      expect(fromA.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
      expect(fromB).toEqual(fromA);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await own.stop();
    }
  });

  it('shares the registration rate limit and the sign-in throttle between instances', async () => {
    const own = await startRedis();
    const { a, b, A, B } = await startPair({
      redisUrl: own.url,
      env: { AUTH_REGISTRATION_RATE_LIMIT: '2' },
    });
    try {
      // Distinct clients: only registrations that create one count.
      const first = await register(A, { client_name: 'Limited 1' });
      expect(first.status).toBe(201);
      expect((await register(B, { client_name: 'Limited 2' })).status).toBe(201);
      expect((await register(A, { client_name: 'Limited 3' })).status).toBe(429);

      // Five wrong passwords for bob on A, then the sixth attempt on B is refused.
      const clientId = first.body.client_id;
      const loginPage = async (base: string) => {
        const ua = new UserAgent();
        const url = `${base}/auth?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: createPkce().challenge, code_challenge_method: 'S256', resource: MCP_RESOURCE })}`;
        return { ua, page: await ua.navigate(url, () => false) };
      };
      let { ua, page } = await loginPage(A);
      for (let i = 0; i < 5; i++) {
        const form = parseForms(page.body, page.url)[0];
        if (!form) throw new Error('no login form');
        page = await ua.submit(form, { username: 'bob', password: 'wrong-password' }, () => false);
        expect(page.status).toBe(401);
      }
      ({ ua, page } = await loginPage(B));
      const form = parseForms(page.body, page.url)[0];
      if (!form) throw new Error('no login form');
      const blocked = await ua.submit(
        form,
        { username: 'bob', password: 'bob-password' },
        () => false,
      );
      expect(blocked.status).toBe(429);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await own.stop();
    }
  });

  it('a key rotation by the CLI is picked up by every running instance, old tokens still verify', async () => {
    const own = await startRedis();
    const { portA, a, b, A, B } = await startPair({
      redisUrl: own.url,
      env: { AUTH_KEY_REFRESH_INTERVAL: '1' },
    });
    const env = {
      ...authServerEnv(`http://localhost:${portA}`, own.url),
      AUTH_KEY_REFRESH_INTERVAL: '1',
    };
    try {
      const clientId = (await register(A)).body.client_id;
      const before = await exchangeCode(A, clientId, await authorize(A, { clientId }));
      const oldKid = decodeProtectedHeader(String(before.body.access_token)).kid;
      // Not spawnSync: a blocked event loop would miss A and B closing idle connections and send
      // the next request on a dead one.
      const rotated = await runApp('src/cli.ts', ['keys', 'rotate'], { env });
      expect(rotated.status, rotated.stderr).toBe(0);
      const kids = async (base: string) =>
        ((await (await fetch(`${base}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map(
          (key) => key.kid,
        );
      const deadline = Date.now() + 10_000;
      while ((await kids(A)).length < 4 || (await kids(B)).length < 4) {
        if (Date.now() > deadline) throw new Error('the rotation was not picked up');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await kids(B)).toEqual(await kids(A));
      const after = await refresh(B, clientId, before.body.refresh_token);
      expect(after.status).toBe(200);
      const newKid = decodeProtectedHeader(String(after.body.access_token)).kid;
      expect(newKid).not.toBe(oldKid);
      expect((await kids(A)).slice(0, 2)).toContain(newKid);
      const verifier = createJwtVerifier({
        issuer: A,
        audience: MCP_RESOURCE,
        jwksUri: `${A}/jwks`,
      });
      await expect(verifier.verify(String(after.body.access_token))).resolves.toBeDefined();
      await expect(verifier.verify(String(before.body.access_token))).resolves.toBeDefined();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await own.stop();
    }
  });

  it('loses nothing when a persistent Redis restarts: the server reconnects and the flow goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
    let own = await startRedis({ dir });
    const server = await startAuthServer({ AUTH_STORE: own.url, AUTH_KEY_REFRESH_INTERVAL: '1' });
    const { issuer } = server;
    try {
      const clientId = (await register(issuer)).body.client_id;
      const tokens = await exchangeCode(issuer, clientId, await authorize(issuer, { clientId }));
      const jwksBefore = await (await fetch(`${issuer}/jwks`)).json();
      await own.stop();
      own = await startRedis({ dir, port: own.port });
      const deadline = Date.now() + 10_000;
      while ((await fetch(`${issuer}/readyz`)).status !== 200) {
        if (Date.now() > deadline) throw new Error('did not reconnect');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const refreshed = await refresh(issuer, clientId, tokens.body.refresh_token);
      expect(refreshed.status).toBe(200);
      // Two key refresh intervals later the same keys are still published: nothing was recreated.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await (await fetch(`${issuer}/jwks`)).json()).toEqual(jwksBefore);
    } finally {
      await server.process.stop();
      await own.stop();
    }
  });

  it('recreates signing keys and configured users when a Redis without persistence comes back empty', async () => {
    let own = await startRedis();
    const server = await startAuthServer({ AUTH_STORE: own.url, AUTH_KEY_REFRESH_INTERVAL: '1' });
    const { issuer } = server;
    try {
      // While the store is unreachable the server answers 503 (no key set).
      const kids = async () => {
        const response = await fetch(`${issuer}/jwks`);
        if (response.status !== 200) return [];
        return ((await response.json()) as { keys: Array<{ kid: string }> }).keys
          .map((key) => key.kid)
          .sort();
      };
      const before = await kids();
      await own.stop();
      own = await startRedis({ port: own.port });
      const deadline = Date.now() + 10_000;
      let after = await kids();
      while ((after.length === 0 || after.join() === before.join()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        after = await kids();
      }
      expect(after).toHaveLength(2);
      expect(after).not.toEqual(before);
      // It signs again: a whole new flow works.
      const clientId = (await register(issuer)).body.client_id;
      const tokens = await exchangeCode(issuer, clientId, await authorize(issuer, { clientId }));
      expect(tokens.status).toBe(200);
    } finally {
      await server.process.stop();
      await own.stop();
    }
  });

  it('stops at startup with the reason when Redis is unreachable', async () => {
    const dead = await freePort();
    const server = await startAuthServer({ AUTH_STORE: `redis://127.0.0.1:${dead}` }).catch(
      (error: Error) => error,
    );
    expect(server).toBeInstanceOf(Error);
    expect(String(server)).toContain(
      `AUTH_STORE: cannot connect to Redis at 127.0.0.1:${dead} (connect ECONNREFUSED`,
    );
    // The fix, and no stack trace: a configuration problem, not a crash.
    expect(String(server)).toContain('start Redis, fix the URL, or use sqlite:<path>');
    expect(String(server)).not.toMatch(/\n\s+at /);
  });

  it('reports not ready while Redis is down and recovers by itself when it returns', async () => {
    const own = await startRedis();
    const server = await startAuthServer({ AUTH_STORE: own.url });
    try {
      expect((await fetch(`${server.issuer}/readyz`)).status).toBe(200);
      await own.stop();
      expect((await fetch(`${server.issuer}/readyz`)).status).toBe(503);
      // Requests get a clear, retryable answer rather than a generic server error.
      const refused = await tokenRequest(server.issuer, { grant_type: 'refresh_token' });
      expect(refused.status).toBe(503);
      expect(refused.body.error).toBe('temporarily_unavailable');
      expect(refused.headers.get('retry-after')).toBe('2');
      const back = await startRedis({ port: own.port });
      try {
        const deadline = Date.now() + 10_000;
        let status = 0;
        while (status !== 200 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          status = (await fetch(`${server.issuer}/readyz`)).status;
        }
        expect(status).toBe(200);
        const clientId = (await register(server.issuer)).body.client_id;
        expect(clientId).toBeTruthy();
      } finally {
        await server.process.stop();
        await back.stop();
      }
    } finally {
      await server.process.stop();
    }
  });
});

async function tokenRequestAt(url: string, params: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${INTROSPECTOR.id}:${INTROSPECTOR.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams(params).toString(),
  });
  return (await response.json()) as { active: boolean };
}
