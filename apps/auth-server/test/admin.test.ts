import { mkdirSync } from 'node:fs';
import { type AuditEvent, openSqliteAuditLog } from '@gatehouse/audit';
import { launchBrowser, parseForms, UserAgent } from '@gatehouse/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, signInToPage } from './support/personal-pages.js';
import { runApp } from './support/run.js';
import {
  authorize,
  type RunningServer,
  refreshRequest,
  startAuthServer,
} from './support/server.js';

/**
 * `/admin`, the operators' console, for AUTH_ADMINS: in Chromium, an admin deletes a client and
 * rotates the keys, and finds both in the audit view; headless, users are added, reset and
 * removed, a non-admin gets 403, a form without its CSRF token or session is refused. Screenshots
 * of every section are kept as artifacts.
 */

const screenshots = new URL('../.reports/screenshots/', import.meta.url).pathname;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  [server, browser] = await Promise.all([
    startAuthServer({ AUTH_ADMINS: 'alice' }),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await server?.process.stop();
});

const connect = (name: string, username = 'alice') => connectClient(server, name, username);
const signInToAdmin = (username: string) => signInToPage(server, '/admin', username);

const signingKids = async () =>
  ((await (await fetch(`${server.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map(
    (key) => key.kid,
  );

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: `${screenshots}${name}.png`, fullPage: true });
}

describe('the admin console in Chromium', () => {
  it('deletes a client, rotates the keys, and finds both actions in the audit view', async () => {
    const doomed = await connect('Doomed Client');
    await connect('Kept Client');
    const kidsBefore = await signingKids();

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
    await page.goto(`${server.issuer}/admin`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('h1:text("Clients")');
    const clients = (await page.textContent('main')) ?? '';
    for (const text of ['Doomed Client', 'Kept Client', doomed.clientId, 'dynamic registration']) {
      expect(clients).toContain(text);
    }
    // The introspection client from AUTH_CLIENTS is listed and cannot be deleted here.
    expect(clients).toContain('in AUTH_CLIENTS');
    await shoot(page, 'admin-clients');

    // Keyboard: the delete button is reachable and named after its client.
    await page.getByRole('button', { name: 'Delete client Doomed Client' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector(`text=Client ${doomed.clientId} deleted, with its grants.`);
    expect(await page.textContent('main')).not.toContain('Doomed Client');

    await page.getByRole('link', { name: 'Signing keys' }).click();
    await page.waitForSelector('h1:text("Signing keys")');
    await page.getByRole('button', { name: 'Rotate signing keys' }).click();
    await page.waitForSelector('text=Tokens are signed with them from now on.');
    await shoot(page, 'admin-keys');

    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.waitForSelector('h1:text("Audit trail")');
    await page.getByLabel('Type').selectOption('admin_action');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForSelector('td:text("admin_action")');
    const actions = (await page.textContent('table')) ?? '';
    expect(actions).toContain(`action=clients delete target=${doomed.clientId}`);
    expect(actions).toContain('alice');
    await page.getByLabel('Type').selectOption('key_rotation');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForSelector('td:text("key_rotation")');
    await shoot(page, 'admin-audit');

    for (const section of ['Users', 'Grants']) {
      await page.getByRole('link', { name: section }).click();
      await page.waitForSelector(`h1:text("${section}")`);
      await shoot(page, `admin-${section.toLowerCase()}`);
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 390, height: 844 });
    await shoot(page, 'admin-grants-dark-mobile');
    expect(violations).toEqual([]);
    await page.close();

    // A form whose CSRF token was taken out is refused, and changes nothing.
    const forged = await browser.newPage();
    await forged.goto(`${server.issuer}/admin/keys`, { waitUntil: 'load' });
    // Signed in already? This page has its own context: sign in again.
    if ((await forged.title()).startsWith('Sign in')) {
      await forged.getByLabel('Username').fill('alice');
      await forged.getByLabel('Password').fill('alice-password');
      await forged.getByRole('button', { name: 'Sign in' }).click();
      await forged.waitForSelector('h1:text("Clients")');
      await forged.goto(`${server.issuer}/admin/keys`);
    }
    const kidsNow = await signingKids();
    await forged.evaluate(() => {
      for (const input of document.querySelectorAll('input[name="csrf"]')) input.remove();
    });
    await forged.getByRole('button', { name: 'Rotate signing keys' }).click();
    await forged.waitForSelector('h1:text("Request refused")');
    expect(await signingKids()).toEqual(kidsNow);
    await forged.close();

    // The deleted client is gone for good: its refresh is refused.
    const refresh = await refreshRequest(server.issuer, doomed.clientId, doomed.refreshToken);
    expect(refresh.status).toBeGreaterThanOrEqual(400);
    // The running server signs with the new keys at once, the old ones still published.
    const kidsAfter = await signingKids();
    expect(kidsAfter.length).toBeGreaterThan(kidsBefore.length);
    expect(kidsAfter).toEqual(expect.arrayContaining(kidsBefore));
  });
});

describe('usage per user', () => {
  it("shows each account's tool calls and rate-limit refusals of the last day, as MCP servers wrote them to the trail", async () => {
    // What an MCP server with MCP_AUDIT_STORE writes: its own connection to the same file.
    const mcpServer = await openSqliteAuditLog(server.dbPath);
    const at = Date.now();
    const event = (type: 'tool_call' | 'rate_limited', actor: string, ago = 0) => ({
      at: at - ago,
      type,
      outcome: type === 'tool_call' ? ('success' as const) : ('denied' as const),
      actor,
      client: 'c-usage',
    });
    await mcpServer.log.append([
      event('tool_call', 'bob'),
      event('tool_call', 'bob'),
      event('tool_call', 'bob'),
      event('rate_limited', 'bob'),
      // Older than a day: not counted.
      event('tool_call', 'bob', 2 * 86_400_000),
    ]);
    await mcpServer.close();
    const { ua } = await signInToAdmin('alice');
    const users = await ua.request(`${server.issuer}/admin/users`);
    const bobRow = /<tr><td>bob<\/td>(.*?)<\/tr>/s.exec(users.body)?.[1] ?? '';
    expect(bobRow).toMatch(/^<td>user<\/td><td>3<\/td><td>1<\/td>/);
  });
});

describe('the admin console for someone else, in Chromium', () => {
  it('answers 403 with a page saying why to a signed-in account that is not an admin', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const answer = page.waitForResponse(
      (response) =>
        new URL(response.url()).pathname === '/admin' &&
        response.request().method() === 'GET' &&
        response.status() !== 302 &&
        response.status() !== 303,
    );
    await page.goto(`${server.issuer}/admin`);
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill('bob-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('h1:text("Not an administrator")');
    expect((await answer).status()).toBe(403);
    await shoot(page, 'admin-not-an-admin');
    await context.close();
  });
});

describe('admin console rules', () => {
  it('answers 403 to a signed-in account that is not an admin, for pages and forms', async () => {
    const { ua, page } = await signInToAdmin('bob');
    expect(page.status).toBe(403);
    expect(page.body).toContain('Not an administrator');
    const post = await ua.request(`${server.issuer}/admin/keys/rotate`, {
      body: new URLSearchParams({ csrf: 'x' }),
    });
    expect(post.status).toBe(403);
  });

  it('refuses a form without its CSRF token (403) or without a session (401), and changes nothing', async () => {
    const { ua } = await signInToAdmin('alice');
    const kids = await signingKids();
    const rotate = (fields: Record<string, string>, agent = ua) =>
      agent.request(`${server.issuer}/admin/keys/rotate`, { body: new URLSearchParams(fields) });
    expect((await rotate({})).status).toBe(403);
    expect((await rotate({ csrf: 'A'.repeat(43) })).status).toBe(403);
    const keysPage = await ua.request(`${server.issuer}/admin/keys`);
    const csrf = parseForms(keysPage.body, keysPage.url)[0]?.fields.csrf ?? '';
    expect(csrf).not.toBe('');
    expect((await rotate({ csrf }, new UserAgent())).status).toBe(401);
    expect(await signingKids()).toEqual(kids);
  });

  it('adds a user who can then sign in, resets their password, and removes them with their grants', async () => {
    const { ua } = await signInToAdmin('alice');
    const usersPage = await ua.request(`${server.issuer}/admin/users`);
    const csrf = parseForms(usersPage.body, usersPage.url)[0]?.fields.csrf ?? '';
    const post = (action: string, fields: Record<string, string>) =>
      ua.request(`${server.issuer}/admin/${action}`, {
        body: new URLSearchParams({ csrf, ...fields }),
      });

    const tooShort = await post('users/add', { username: 'carol', password: 'short' });
    expect(tooShort.status).toBe(400);
    expect(tooShort.body).toContain('at least 8 characters');
    expect(
      (await post('users/add', { username: 'carol', password: 'carol-password' })).status,
    ).toBe(200);
    const carol = await connect('Carol Tool', 'carol');

    const reset = await post('users/reset', { username: 'carol', password: 'carol-new-password' });
    expect(reset.body).toContain('New password set for carol.');
    await expect(
      authorize(server.issuer, {
        clientId: carol.clientId,
        username: 'carol',
        password: 'carol-password',
      }),
    ).rejects.toThrow();

    const removed = await post('users/remove', { username: 'carol' });
    expect(removed.body).toContain('User carol removed, with their grants.');
    const refresh = await refreshRequest(server.issuer, carol.clientId, carol.refreshToken);
    expect(refresh.body.error).toBe('invalid_grant');

    // Every change is on the trail with the admin as actor and the request id.
    const trail = await runApp('src/cli.ts', ['audit', '--type', 'admin_action', '--json'], {
      env: { AUTH_STORE: `sqlite:${server.dbPath}` },
    });
    const actions = (JSON.parse(trail.stdout) as AuditEvent[])
      .filter((event) => event.detail?.target === 'carol')
      .map((event) => `${event.actor} ${event.detail?.action} ${event.outcome}`);
    expect(actions).toEqual([
      'alice users add success',
      'alice users reset-password success',
      'alice users remove success',
    ]);
  });
});
