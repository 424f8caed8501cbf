import { mkdirSync } from 'node:fs';
import { createPkce, launchBrowser, parseForms, UserAgent } from '@gatehouse/testkit';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, signInToPage } from './support/personal-pages.js';
import {
  INTROSPECTOR,
  MCP_RESOURCE,
  REDIRECT_URI,
  type RunningServer,
  refreshRequest,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

/**
 * `/account`, the connected-apps page: a person sees the clients they granted access to and
 * revokes one, which stops its refresh tokens and makes its access tokens inactive. In Chromium
 * for the page itself (screenshots kept as artifacts), headless for the refusals.
 */

const screenshots = new URL('../.reports/screenshots/', import.meta.url).pathname;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  [server, browser] = await Promise.all([startAuthServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.process.stop();
});

const connect = (name: string, username = 'alice') => connectClient(server, name, username);

async function active(token: string): Promise<boolean> {
  const response = await fetch(`${server.issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${INTROSPECTOR.id}:${INTROSPECTOR.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }).toString(),
  });
  return ((await response.json()) as { active: boolean }).active;
}

async function signInToAccount(username = 'alice') {
  const signedIn = await signInToPage(server, '/account', username);
  expect(signedIn.page.status).toBe(200);
  return signedIn;
}

describe('the account page in Chromium', () => {
  it("lists what alice granted (not bob's), and revoking one stops its refresh and its access tokens", async () => {
    const notes = await connect('Notes App');
    const other = await connect('Calendar App');
    await connect('Bob Tool', 'bob');
    // A tool call through a resource server would count as use too; a refresh does here.
    const refreshed = await refreshRequest(server.issuer, other.clientId, other.refreshToken);
    expect(refreshed.status).toBe(200);

    const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
    await page.goto(`${server.issuer}/account`);
    // Not signed in: the page signs in through the authorization server's own sign-in page.
    await expect(page.title()).resolves.toBe('Sign in · Gatehouse');
    await expect(page.textContent('main')).resolves.toContain('Your Gatehouse account');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('h1:text("Connected apps")');
    expect(new URL(page.url()).pathname).toBe('/account');

    const main = (await page.textContent('main')) ?? '';
    expect(main).toContain('Signed in as alice');
    for (const text of ['Notes App', 'Calendar App', notes.clientId, 'dynamic registration']) {
      expect(main).toContain(text);
    }
    expect(main).toContain(new URL(REDIRECT_URI).host);
    expect(main).toContain('mcp:tools');
    expect(main).toContain(MCP_RESOURCE);
    // Bob's client, and the account page's own client, are not alice's connected apps.
    expect(main).not.toContain('Bob Tool');
    expect(main).not.toContain('gatehouse-account');
    // Most recently used first: the refreshed one.
    expect(main.indexOf('Calendar App')).toBeLessThan(main.indexOf('Notes App'));
    await page.screenshot({ path: `${screenshots}account.png`, fullPage: true });

    // Keyboard: the revoke buttons are reachable and named after their app.
    const revoke = page.getByRole('button', { name: 'Revoke access of Notes App' });
    await revoke.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('text=Notes App no longer has access to your account.');
    const after = (await page.textContent('main')) ?? '';
    expect(after).not.toContain(notes.clientId);
    expect(after).toContain('Calendar App');
    // Each scope once, with its resource (the grant lists it for OpenID Connect too).
    expect(after.match(/mcp:tools/g)).toHaveLength(1);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({
      path: `${screenshots}account-revoked-dark-mobile.png`,
      fullPage: true,
    });
    expect(violations).toEqual([]);
    await page.close();

    // The revoked client: its refresh fails, its JWT is inactive at introspection at once.
    const refresh = await refreshRequest(server.issuer, notes.clientId, notes.refreshToken);
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');
    expect(await active(notes.accessToken)).toBe(false);
    // The other one still works.
    expect(await active(other.accessToken)).toBe(true);
  });
});

describe('account page refusals', () => {
  it('refuses a revocation without the CSRF token (403), or without a session (401), and revokes nothing', async () => {
    const app = await connect('CSRF Target');
    const { ua, page } = await signInToAccount();
    const form = parseForms(page.body, page.url).find(
      (candidate) => candidate.fields.client_id === app.clientId,
    );
    expect(form?.fields.csrf).toBeTruthy();
    const post = (fields: Record<string, string>, agent = ua) =>
      agent.request(`${server.issuer}/account/revoke`, { body: new URLSearchParams(fields) });

    expect((await post({ client_id: app.clientId })).status).toBe(403);
    expect((await post({ client_id: app.clientId, csrf: 'x'.repeat(43) })).status).toBe(403);
    // Another session's token is worthless here.
    const bob = await signInToAccount('bob');
    const bobForm = parseForms(bob.page.body, bob.page.url)[0];
    expect(
      (await post({ client_id: app.clientId, csrf: String(bobForm?.fields.csrf ?? 'none') }))
        .status,
    ).toBe(403);
    // No session at all.
    expect(
      (await post({ client_id: app.clientId, csrf: form?.fields.csrf ?? '' }, new UserAgent()))
        .status,
    ).toBe(401);
    expect(await active(app.accessToken)).toBe(true);

    // Bob cannot revoke alice's client with his own session and token: it is not his.
    expect(
      (await post({ client_id: app.clientId, csrf: String(bobForm?.fields.csrf) }, bob.ua)).status,
    ).toBe(404);
    expect(await active(app.accessToken)).toBe(true);

    // With the token: revoked.
    expect((await post({ client_id: app.clientId, csrf: form?.fields.csrf ?? '' })).status).toBe(
      200,
    );
    expect(await active(app.accessToken)).toBe(false);
  });

  it("destroys the code of the account page's own sign-in, and the grant behind it, at the callback", async () => {
    const { code } = await signInToAccount();
    expect(code).not.toBe('');
    const db = new Database(server.dbPath, { readonly: true });
    try {
      const left = db
        .prepare(
          "SELECT model, id FROM oidc_models WHERE (model = 'AuthorizationCode' AND id = ?) OR (model = 'Grant' AND json_extract(payload, '$.clientId') = 'gatehouse-account')",
        )
        .all(code);
      expect(left).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("never issues a token to the account page's client, even for a code its holder stopped at the redirect", async () => {
    // Someone starts that client's authorization request with their own PKCE verifier and keeps
    // the code instead of following the redirect to the callback (which would destroy it).
    const { verifier, challenge } = createPkce();
    const callback = `${server.issuer}/account/callback`;
    const ua = new UserAgent();
    const url = `${server.issuer}/auth?${new URLSearchParams({
      client_id: 'gatehouse-account',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: callback,
      state: 'mine',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const arrived = await ua.authorize(url, (target) => target.startsWith(callback), {
      username: 'alice',
      password: 'alice-password',
      consent: 'allow',
    });
    const code = new URL(arrived.url).searchParams.get('code') ?? '';
    expect(code).not.toBe('');
    const exchange = await tokenRequest(server.issuer, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: callback,
      code_verifier: verifier,
      client_id: 'gatehouse-account',
    });
    expect(exchange.status).toBe(400);
    expect(exchange.body.error).toBe('unauthorized_client');
    // Not with HTTP Basic either.
    const basic = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('gatehouse-account:').toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: callback,
        code_verifier: verifier,
      }).toString(),
    });
    expect(basic.status).toBe(400);
  });

  it('refuses a callback this browser did not start (no or another state)', async () => {
    const ua = new UserAgent();
    const answer = await ua.request(`${server.issuer}/account/callback?code=x&state=y`);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('Sign-in expired');
  });
});
