import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  launchBrowser,
  type StartedProcess,
  startOnFreePort,
  startProcess,
} from '@gatehouse/testkit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAndConsent } from './pages.js';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * The MCP Inspector's web UI (2.12.0, from npm), unmodified, in Chromium: a user adds the MCP
 * server, connects, signs in and consents on our pages, lists the tools and calls one, keeps
 * working past the access token's lifetime (the Inspector refreshes), and steps up to mcp:admin
 * through its "Additional permissions required" dialog. Every click is by role or label, as a
 * person (or a screen reader) finds it. In 2.x the Inspector's Node backend sends every OAuth and
 * MCP request (the page posts them to its /api/fetch proxy), so what the page does at our origin is
 * full-page navigation only; test/browser-client.test.ts covers clients that call us from a page.
 */

const ACCESS_TOKEN_TTL = 5;
// The MCP server accepts a token this long after its expiry (auth-core's default clock tolerance).
const CLOCK_TOLERANCE = 10;
const screenshots = new URL('../.reports/screenshots/', import.meta.url).pathname;
const launcher = new URL(
  '../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js',
  import.meta.url,
).pathname;

/** A request the Inspector's backend sent for the page (POST /api/fetch {url, method, body}). */
interface ProxiedRequest {
  readonly url: string;
  readonly method: string;
  readonly body: string | undefined;
  status?: number | undefined;
}

let stack: Stack;
let inspector: StartedProcess;
let inspectorUrl: string;
let browser: Browser;
beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  stack = await startStack({ authEnv: { AUTH_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL) } });
  inspector = await startOnFreePort(async (port) => {
    inspectorUrl = `http://localhost:${port}`;
    return startProcess(process.execPath, [launcher, '--web'], {
      env: {
        // Its server list, OAuth state and session files live below $HOME/.mcp-inspector.
        HOME: mkdtempSync(join(tmpdir(), 'gatehouse-inspector-')),
        CLIENT_PORT: String(port),
        MCP_SANDBOX_PORT: '0',
        MCP_APP_ORIGIN_PORT: '0',
        MCP_AUTO_OPEN_ENABLED: 'false',
        MCP_INSPECTOR_SECRET_STORE: 'memory',
      },
      readyUrl: `http://127.0.0.1:${port}/healthz`,
      listensOn: port,
    });
  });
  // The UI links Google Fonts; on a closed network those lookups fail at once instead of hanging.
  // (Not page.route(): with a route set, Playwright answers CORS preflights itself.)
  browser = await launchBrowser([
    '--host-resolver-rules=MAP fonts.googleapis.com ~NOTFOUND, MAP fonts.gstatic.com ~NOTFOUND',
  ]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await inspector?.stop();
  await stack?.stop();
});

describe('MCP Inspector web UI in Chromium', () => {
  it('connects through OAuth, calls a tool, refreshes, and steps up to mcp:admin', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const proxied: ProxiedRequest[] = [];
    const problems: string[] = [];
    page.on('request', (request) => {
      if (!request.url().endsWith('/api/fetch')) return;
      const sent = JSON.parse(request.postData() ?? '{}') as Partial<ProxiedRequest>;
      const entry: ProxiedRequest = {
        url: String(sent.url),
        method: sent.method ?? 'GET',
        body: sent.body,
      };
      proxied.push(entry);
      void request
        .response()
        .then((response) => response?.json())
        .then((answer: { status?: number } | undefined) => {
          entry.status = answer?.status;
        })
        .catch(() => undefined);
    });
    // Anything our pages make the browser complain about (a failed subresource, a CSP refusal).
    page.on('console', (message) => {
      if (message.type() === 'error' && message.location().url.startsWith(stack.issuer))
        problems.push(`${message.location().url}: ${message.text()}`);
    });
    const main = page.getByRole('main');
    const serverId = 'gatehouse';
    const connection = page.getByRole('switch', { name: `Connect or disconnect "${serverId}"` });
    const callTool = async (name: string, args: Record<string, string> = {}) => {
      await main.getByRole('button', { name: new RegExp(`\\b${name}$`) }).click();
      for (const [field, value] of Object.entries(args))
        await main.getByRole('textbox', { name: field, exact: true }).fill(value);
      await main.getByRole('button', { name: 'Execute Tool' }).click();
    };

    try {
      await page.goto(`${inspectorUrl}/`);
      await page.getByRole('button', { name: 'Add Servers' }).click();
      await page.getByRole('menuitem', { name: '+ Add manually' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add server' });
      await dialog.getByRole('textbox', { name: 'Server ID' }).fill(serverId);
      await dialog.getByRole('textbox', { name: 'Transport' }).click();
      await page.getByRole('option', { name: 'streamable-http' }).click();
      await dialog.getByRole('textbox', { name: 'URL' }).fill(stack.mcpUrl);
      await dialog.getByRole('button', { name: 'Add' }).click();
      await dialog.waitFor({ state: 'hidden' }); // a click while it closes is lost
      // The switch's track covers its input: force the click onto the input itself.
      await connection.click({ force: true });

      await signInAndConsent(page, { issuer: stack.issuer, login: ALICE, returnTo: inspectorUrl });
      await page
        .getByRole('switch', { name: `Connect or disconnect "${serverId}"`, checked: true })
        .waitFor();
      await page.screenshot({ path: `${screenshots}inspector-connected.png` });

      await page.getByRole('banner').getByText('Tools', { exact: true }).click();
      await callTool('add_numbers', { a: '2', b: '3' });
      await main.getByText('2 + 3 = 5', { exact: true }).waitFor();

      // Past the access token's lifetime: the next call gets 401 and the Inspector refreshes.
      // (Another tool: the one just called shows its result, not its form, when clicked again.)
      await page.waitForTimeout((ACCESS_TOKEN_TTL + CLOCK_TOLERANCE + 1) * 1000);
      await callTool('multiply_numbers', { x: '4', y: '5' });
      await main.getByText('4 × 5 = 20', { exact: true }).waitFor();

      // Step-up: server_status needs mcp:admin; the Inspector asks the user before re-authorizing.
      await callTool('server_status');
      await page
        .getByRole('dialog', { name: 'Additional permissions required' })
        .getByRole('button', { name: 'Authorize' })
        .click();
      await signInAndConsent(page, { issuer: stack.issuer, login: ALICE, returnTo: inspectorUrl });
      await page.getByRole('banner').getByText('Tools', { exact: true }).click();
      await callTool('server_status');
      await main.getByText(/^up \d+ s, \d+ MB resident, Node v\d+/).waitFor();
      await page.screenshot({ path: `${screenshots}inspector-step-up.png` });
    } catch (error) {
      await page.screenshot({ path: `${screenshots}inspector-failed.png` }).catch(() => undefined);
      throw error;
    } finally {
      await context.close();
    }

    const at = (path: string) => proxied.filter((r) => new URL(r.url).pathname === path);
    const [registration, ...moreRegistrations] = at('/reg');
    expect(moreRegistrations).toEqual([]);
    expect(registration?.status).toBe(201);
    const registered = JSON.parse(registration?.body ?? '{}');
    expect(registered).toMatchObject({
      client_name: 'MCP Inspector',
      redirect_uris: [`${inspectorUrl}/oauth/callback`],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    const grants = at('/token').map((r) => [
      new URLSearchParams(r.body).get('grant_type'),
      new URLSearchParams(r.body).get('resource'),
      r.status,
    ]);
    expect(grants).toEqual([
      ['authorization_code', stack.mcpUrl, 200],
      ['refresh_token', stack.mcpUrl, 200],
      ['authorization_code', stack.mcpUrl, 200],
    ]);
    expect(problems).toEqual([]);
  }, 120_000);
});
