import { randomUUID } from 'node:crypto';
import {
  createPkce,
  type PageResponse,
  parseForms,
  type RunningRedis,
  startRedis,
  UserAgent,
} from '@gatehouse/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  exchangeCode,
  MCP_RESOURCE,
  REDIRECT_URI,
  type RunningServer,
  startAuthServer,
} from './support/server.js';

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

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function send(url: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const refresh = (clientId: string, refreshToken: string, requestId: string = randomUUID()) =>
  send(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': requestId },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: refreshToken,
    }).toString(),
  });

const registerClient = () =>
  send(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Test MCP Client', redirect_uris: [REDIRECT_URI] }),
  });

const authorizationUrl = (clientId: string) =>
  `${server.issuer}/auth?${new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: createPkce().challenge,
    code_challenge_method: 'S256',
    resource: MCP_RESOURCE,
  })}`;

/** A registered client, a refresh token for it, and a login page left open in a user agent. */
async function prepare() {
  const registered = await registerClient();
  expect(registered.status).toBe(201);
  const clientId = (JSON.parse(registered.text) as { client_id: string }).client_id;
  const tokens = await exchangeCode(
    server.issuer,
    clientId,
    await authorize(server.issuer, { clientId }),
  );
  expect(tokens.status).toBe(200);
  const refreshToken = String(tokens.body.refresh_token);
  const ua = new UserAgent();
  const loginPage = await ua.navigate(authorizationUrl(clientId), () => false);
  expect(loginPage.status).toBe(200);
  const loginForm = parseForms(loginPage.body, loginPage.url)[0];
  if (!loginForm) throw new Error('no login form');
  return { clientId, refreshToken, ua, loginPage, loginForm };
}

/** The retryable answer, as JSON: 503, temporarily_unavailable, Retry-After, no storage detail. */
function expectUnavailableJson(answer: Answer | PageResponse): void {
  const text = 'text' in answer ? answer.text : answer.body;
  expect(answer.status, text).toBe(503);
  expect(answer.headers.get('retry-after')).toBe('2');
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: string; error_description: string };
  expect(body.error).toBe('temporarily_unavailable');
  expect(body.error_description).not.toMatch(/OOM|NOPERM|redis/i);
}

describe('auth-server when Redis fails commands while connected', () => {
  it('answers token, registration, sign-in and authorization requests 503 temporarily_unavailable while Redis refuses writes (OOM), and serves them again afterwards with nothing lost', async () => {
    const { clientId, refreshToken, ua, loginForm } = await prepare();

    await whileOutOfMemory(async () => {
      expect((await fetch(`${server.issuer}/readyz`)).status).toBe(200);
      expectUnavailableJson(await refresh(clientId, refreshToken));
      expectUnavailableJson(await registerClient());
      // Our sign-in page: a wrong password is counted by the throttle (a write).
      expectUnavailableJson(
        await ua.submit(loginForm, { username: 'alice', password: 'wrong-password' }, () => false),
      );
      // oidc-provider's own endpoint: a browser starting a sign-in gets a page, not JSON.
      const page = await new UserAgent().request(authorizationUrl(clientId), {
        headers: { accept: 'text/html' },
      });
      expect(page.status, page.body).toBe(503);
      expect(page.headers.get('retry-after')).toBe('2');
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('location')).toBeNull();
      expect(page.body).toMatch(/temporarily unavailable/i);
    });

    // The refresh token was not consumed by the failed attempt; the open sign-in goes on.
    expect((await refresh(clientId, refreshToken)).status).toBe(200);
    expect((await registerClient()).status).toBe(201);
    // alice consented to this client in prepare(): signing in goes straight back with a code.
    const signedIn = await ua.submit(
      loginForm,
      { username: 'alice', password: 'alice-password' },
      (url) => url.startsWith(REDIRECT_URI),
    );
    expect(new URL(signedIn.url).searchParams.get('code'), signedIn.body).toBeTruthy();
  });

  it("logs a request refused for a store failure with Redis's reason and the request id, and no token", async () => {
    const { clientId, refreshToken } = await prepare();
    const requestId = `store-failure-${randomUUID()}`;
    await whileOutOfMemory(async () => {
      const answer = await refresh(clientId, refreshToken, requestId);
      expect(answer.status).toBe(503);
      expect(answer.headers.get('x-request-id')).toBe(requestId);
    });
    // The response can arrive before the process's stdout has been read: wait for the line.
    const logged = () =>
      server.process
        .output()
        .split('\n')
        .some((line) => line.includes(requestId) && line.includes('OOM command not allowed'));
    const deadline = Date.now() + 5000;
    while (!logged() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const output = server.process.output();
    expect(logged(), output).toBe(true);
    // Nor any credential from this file's requests, refused or not.
    for (const secret of [refreshToken, 'alice-password', 'wrong-password']) {
      expect(output).not.toContain(secret);
    }
  });

  it('answers 503, not 500 or "session expired", when Redis refuses a read inside oidc-provider or the sign-in page (ACL NOPERM)', async () => {
    const { clientId, refreshToken, ua, loginPage } = await prepare();

    await whileModelReadsRefused(async () => {
      // Our middlewares in front of the token endpoint pass (no HGETALL); oidc-provider's client
      // and refresh-token lookups fail.
      expectUnavailableJson(await refresh(clientId, refreshToken));
      // The interaction lookup fails: a storage failure, not an expired sign-in.
      expectUnavailableJson(await ua.request(loginPage.url));
    });

    expect((await refresh(clientId, refreshToken)).status).toBe(200);
    expect((await ua.request(loginPage.url)).status).toBe(200);
  });
});
