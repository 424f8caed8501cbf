import { mkdirSync } from 'node:fs';
import { HeadlessOAuthProvider, launchBrowser } from '@gatehouse/testkit';
import { UnauthorizedError } from '@modelcontextprotocol/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * One MCP authorization with a real browser: the v2 SDK client asks for the redirect, Debian's
 * Chromium (playwright-core) shows the real login and consent pages, a person's clicks are
 * simulated by labels and button names, and the redirect back is caught at the client's
 * redirect URI. Screenshots are kept in .reports/screenshots/.
 */

const screenshots = new URL('../.reports/screenshots/', import.meta.url).pathname;
let stack: Stack;
let browser: Browser;

class BrowserOAuthProvider extends HeadlessOAuthProvider {
  override async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    const page = await browser.newPage();
    // The client's redirect URI has no server here: answer it in the browser and keep the URL.
    let callback: URL | undefined;
    await page.route(`${this.redirectUri}**`, async (route) => {
      callback = new URL(route.request().url());
      await route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: '<title>Done</title><p>You can close this window.</p>',
      });
    });
    await page.goto(url.href);
    await page.getByLabel('Username').fill(this.login.username);
    await page.getByLabel('Password').fill(this.login.password);
    await page.screenshot({ path: `${screenshots}mcp-login.png` });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await page.screenshot({ path: `${screenshots}mcp-consent.png` });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((target) => target.href.startsWith(this.redirectUri));
    await page.close();
    if (!callback) throw new Error('the browser never reached the redirect URI');
    this.callbackParams = callback.searchParams;
  }
}

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  stack = await startStack();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('MCP authorization in Chromium', () => {
  it('signs in and consents in the browser, then the SDK client calls a tool', async () => {
    const provider = new BrowserOAuthProvider({
      issuer: stack.issuer,
      login: ALICE,
      clientMetadata: { client_name: 'Browser e2e' },
    });
    const connect = () => connectV2(stack.mcpUrl, provider, 'gatehouse-e2e-browser');
    await expect(connect()).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.callbackParams?.get('iss')).toBe(stack.issuer);
    await finishAuthV2(stack.mcpUrl, provider);
    const client = await connect();
    const me = await client.callTool({ name: 'whoami', arguments: {} });
    expect(me.structuredContent).toMatchObject({ subject: 'alice' });
    await client.close();
  }, 60_000);
});
