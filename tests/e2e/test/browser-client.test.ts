import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchBrowser } from '@gatehouse/testkit';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAndConsent } from './pages.js';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * The MCP TypeScript SDK v2 client running in Chromium, in a page on its own origin
 * (browser-client/app.ts, bundled for the browser by esbuild): discovery, registration, token,
 * refresh and every MCP request are cross-origin fetches from the page, so the browser enforces
 * CORS on our authorization server and MCP server as it does for a web app. (The MCP Inspector 2.x
 * sends its OAuth requests from its Node backend, so it does not test this.)
 */

let stack: Stack;
let browser: Browser;
let site: Server;
let origin: string;
beforeAll(async () => {
  const bundle = await build({
    entryPoints: [new URL('../browser-client/app.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]?.text ?? '';
  const html =
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">' +
    '<title>Browser MCP client</title><pre id="log"></pre><script type="module" src="/app.js"></script>';
  site = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else if (path === '/' || path === '/callback') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  // 127.0.0.1, while both servers are on localhost: another origin for every request.
  origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  stack = await startStack();
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  site?.close();
});

describe('MCP SDK v2 client in a browser page (CORS)', () => {
  it('registers, authorizes, calls tools, refreshes and steps up, all cross-origin', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    // A request the browser refuses (CORS) fails with net::ERR_FAILED, and Chromium says why in
    // the console. (ERR_ABORTED: a request cut short by leaving for the sign-in page.)
    page.on('console', (message) => {
      if (/CORS|Access-Control/i.test(message.text())) problems.push(message.text());
    });
    page.on('requestfailed', (request) => {
      const reason = request.failure()?.errorText;
      if (reason !== 'net::ERR_ABORTED')
        problems.push(`${request.method()} ${request.url()}: ${reason}`);
    });
    const crossOrigin: string[] = [];
    page.on('requestfinished', async (request) => {
      if (request.isNavigationRequest() || request.url().startsWith(origin)) return;
      const response = await request.response();
      const url = new URL(request.url());
      crossOrigin.push(`${request.method()} ${url.origin}${url.pathname} ${response?.status()}`);
    });
    const log = async () =>
      ((await page.locator('#log').textContent()) ?? '')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);

    try {
      await page.goto(`${origin}/?mcp=${encodeURIComponent(stack.mcpUrl)}`);
      await signInAndConsent(page, { issuer: stack.issuer, login: ALICE, returnTo: origin });
      await signInAndConsent(page, { issuer: stack.issuer, login: ALICE, returnTo: origin });
      await page.locator('#done').or(page.getByText('"event":"error"')).first().waitFor();
    } finally {
      const entries = await log().catch(() => []);
      await context.close();
      expect(entries).toEqual([
        { event: 'authorize', scope: 'mcp:tools offline_access' },
        { event: 'tokens', scope: 'mcp:tools', refresh: true },
        { event: 'tool', name: 'add_numbers', isError: false, text: '2 + 3 = 5' },
        // the refresh after the 401
        { event: 'tokens', scope: 'mcp:tools', refresh: true },
        { event: 'tool', name: 'multiply_numbers', isError: false, text: '4 × 5 = 20' },
        { event: 'authorize', scope: 'mcp:tools mcp:admin offline_access' },
        { event: 'tokens', scope: 'mcp:tools mcp:admin', refresh: true },
        {
          event: 'tool',
          name: 'server_status',
          isError: false,
          text: expect.stringMatching(/^up \d+ s/),
        },
        { event: 'done' },
      ]);
    }
    expect(problems).toEqual([]);
    const paths = crossOrigin.map((line) => line.replace(/:\d+\//, ':PORT/'));
    for (const expected of [
      'GET http://localhost:PORT/.well-known/oauth-protected-resource/mcp 200',
      'GET http://localhost:PORT/.well-known/oauth-authorization-server 200',
      'POST http://localhost:PORT/reg 201',
      'POST http://localhost:PORT/token 200',
      'POST http://localhost:PORT/mcp 401',
      'POST http://localhost:PORT/mcp 403',
      'POST http://localhost:PORT/mcp 200',
    ])
      expect(paths).toContain(expected);
  }, 90_000);
});
