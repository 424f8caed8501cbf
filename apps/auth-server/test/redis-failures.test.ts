import { randomUUID } from 'node:crypto';
import {
  type PageResponse,
  type RunningRedis,
  startRedis,
  UserAgent,
  waitForOutput,
} from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIRECT_URI, type RunningServer, startAuthServer } from './support/server.js';
import {
  type Answer,
  authorizationUrl,
  expectUnavailableJson,
  prepare,
  refresh,
  registerClient,
} from './support/store-failures.js';

/**
 * Redis failing a command while the connection stays up (ioredis still reports ready, so the
 * not-ready 503 does not apply): writes refused under maxmemory with noeviction (OOM), or a command
 * refused by an ACL (NOPERM). Every request that hits such a failure gets 503
 * temporarily_unavailable with Retry-After, the log says why and for which request, and nothing is
 * lost once Redis accepts commands again.
 */

let own: RunningRedis;
let server: RunningServer;
/** The test's own connection to the server's Redis, to change its configuration. */
let admin: Redis;

beforeAll(async () => {
  own = await startRedis();
  server = await startAuthServer({ AUTH_STORE: own.url });
  admin = new Redis(own.url);
});
afterAll(async () => {
  admin?.disconnect();
  await server?.process.stop();
  await own?.stop();
});

/** Until `fn` returns, Redis refuses every write with "OOM command not allowed"; reads still work. */
async function whileOutOfMemory(fn: () => Promise<void>): Promise<void> {
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
  await admin.config('SET', 'maxmemory', '1');
  try {
    await fn();
  } finally {
    await admin.config('SET', 'maxmemory', '0');
  }
}

/** Until `fn` returns, the server's Redis user may not run HGETALL (every model lookup fails). */
async function whileModelReadsRefused(fn: () => Promise<void>): Promise<void> {
  await admin.acl('SETUSER', 'default', '-hgetall');
  try {
    await fn();
  } finally {
    await admin.acl('SETUSER', 'default', '+@all');
  }
}

const REDIS_DETAIL = /OOM|NOPERM|redis/i;
const expectUnavailable = (answer: Answer | PageResponse) =>
  expectUnavailableJson(answer, REDIS_DETAIL);

describe('auth-server when Redis fails commands while connected', () => {
  it('answers token, registration, sign-in and authorization requests 503 temporarily_unavailable while Redis refuses writes (OOM), and serves them again afterwards with nothing lost', async () => {
    const { clientId, refreshToken, ua, loginForm } = await prepare(server);

    await whileOutOfMemory(async () => {
      expect((await fetch(`${server.issuer}/readyz`)).status).toBe(200);
      expectUnavailable(await refresh(server, clientId, refreshToken));
      expectUnavailable(await registerClient(server));
      // Our sign-in page: a wrong password is counted by the throttle (a write).
      expectUnavailable(
        await ua.submit(loginForm, { username: 'alice', password: 'wrong-password' }, () => false),
      );
      // oidc-provider's own endpoint: a browser starting a sign-in gets a page, not JSON.
      const page = await new UserAgent().request(authorizationUrl(server, clientId), {
        headers: { accept: 'text/html' },
      });
      expect(page.status, page.body).toBe(503);
      expect(page.headers.get('retry-after')).toBe('2');
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('location')).toBeNull();
      expect(page.body).toMatch(/temporarily unavailable/i);
    });

    // The refresh token was not consumed by the failed attempt; the open sign-in goes on.
    expect((await refresh(server, clientId, refreshToken)).status).toBe(200);
    expect((await registerClient(server)).status).toBe(201);
    // alice consented to this client in prepare(): signing in goes straight back with a code.
    const signedIn = await ua.submit(
      loginForm,
      { username: 'alice', password: 'alice-password' },
      (url) => url.startsWith(REDIRECT_URI),
    );
    expect(new URL(signedIn.url).searchParams.get('code'), signedIn.body).toBeTruthy();
  });

  it("logs a request refused for a store failure with Redis's reason and the request id, and no token", async () => {
    const { clientId, refreshToken } = await prepare(server);
    const requestId = `store-failure-${randomUUID()}`;
    await whileOutOfMemory(async () => {
      const answer = await refresh(server, clientId, refreshToken, requestId);
      expect(answer.status).toBe(503);
      expect(answer.headers.get('x-request-id')).toBe(requestId);
    });
    // The response can arrive before the process's stdout has been read: wait for the line.
    const logged = () =>
      server.process
        .output()
        .split('\n')
        .some((line) => line.includes(requestId) && line.includes('OOM command not allowed'));
    await waitForOutput(server.process, logged);
    const output = server.process.output();
    expect(logged(), output).toBe(true);
    // Nor any credential from this file's requests, refused or not.
    for (const secret of [refreshToken, 'alice-password', 'wrong-password']) {
      expect(output).not.toContain(secret);
    }
  });

  it('answers 503, not 500 or "session expired", when Redis refuses a read inside oidc-provider or the sign-in page (ACL NOPERM)', async () => {
    const { clientId, refreshToken, ua, loginPage } = await prepare(server);

    await whileModelReadsRefused(async () => {
      // Our middlewares in front of the token endpoint pass (no HGETALL); oidc-provider's client
      // and refresh-token lookups fail.
      expectUnavailable(await refresh(server, clientId, refreshToken));
      // The interaction lookup fails: a storage failure, not an expired sign-in.
      expectUnavailable(await ua.request(loginPage.url));
    });

    expect((await refresh(server, clientId, refreshToken)).status).toBe(200);
    expect((await ua.request(loginPage.url)).status).toBe(200);
  });
});
