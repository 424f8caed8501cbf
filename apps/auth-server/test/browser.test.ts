import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPkce, launchBrowser } from '@gatehouse/testkit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MCP_RESOURCE,
  type RunningServer,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

/** One flow through the real login and consent pages in Debian's Chromium; screenshots are kept as artifacts. */

const screenshots = new URL('../.reports/screenshots/', import.meta.url).pathname;
let server: RunningServer;
let browser: Browser;
let callback: Server;
let redirectUri: string;

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  server = await startAuthServer();
  browser = await launchBrowser();
  callback = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Done</title><p>Signed in. You can close this window.</p>');
  });
  await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
  redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
});
afterAll(async () => {
  await browser?.close();
  callback?.close();
  await server?.process.stop();
});

describe('login and consent in Chromium', () => {
  it('signs in with the labelled form, shows the consent details, and returns code and iss', async () => {
    const clientId = (
      await register(server.issuer, { client_name: 'Browser Client', redirect_uris: [redirectUri] })
    ).body.client_id;
    const { verifier, challenge } = createPkce();
    const state = crypto.randomUUID();
    const url = `${server.issuer}/auth?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: MCP_RESOURCE,
      scope: 'mcp:tools mcp:admin',
      state,
    })}`;
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });

    await page.goto(url);
    await expect(page.title()).resolves.toBe('Sign in · Gatehouse');
    // The username field has focus first, and both fields are reachable by their labels.
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('username');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('alice-password');
    await page.screenshot({ path: `${screenshots}login.png`, fullPage: true });
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForSelector('text=Allow access?');
    const consent = await page.textContent('main');
    expect(consent).toContain('Browser Client');
    expect(consent).toContain(MCP_RESOURCE);
    expect(consent).toContain(new URL(redirectUri).host);
    expect(consent).toContain('Use the administrative tools of this MCP server');
    await page.screenshot({ path: `${screenshots}consent.png`, fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL((target) => target.href.startsWith(redirectUri));
    const returned = new URL(page.url());
    expect(returned.searchParams.get('state')).toBe(state);
    expect(returned.searchParams.get('iss')).toBe(server.issuer);
    expect(violations).toEqual([]);

    const tokens = await tokenRequest(server.issuer, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: returned.searchParams.get('code') ?? '',
      redirect_uri: redirectUri,
      code_verifier: verifier,
      resource: MCP_RESOURCE,
    });
    expect(tokens.status).toBe(200);
    expect(String(tokens.body.scope).split(' ').sort()).toEqual(['mcp:admin', 'mcp:tools']);
    await page.close();
  });
});
