import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, UserAgent } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * mcp-remote (npm), an independent client stricter than the SDK: it checks the metadata `issuer`
 * and RFC 9207 `iss`, sends `application_type`, and asks for `offline_access` with
 * `prompt=consent` when offered. It prints the authorization URL; the headless user agent signs in
 * and consents, and the redirect lands on mcp-remote's own callback server.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

describe('mcp-remote', () => {
  it('authorizes through its own callback server and lists the tools', async () => {
    const port = await freePort();
    const home = mkdtempSync(join(tmpdir(), 'gatehouse-mcp-remote-'));
    // "Open the browser" must succeed without a display: a stand-in opener that does nothing.
    const bin = join(home, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const cli = new URL('../node_modules/mcp-remote/dist/client.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [cli, stack.mcpUrl, String(port)], {
      env: {
        ...process.env,
        MCP_REMOTE_CONFIG_DIR: join(home, 'config'),
        BROWSER: 'true',
        PATH: `${bin}:${process.env.PATH}`,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      let authorizationUrl: string | undefined;
      for await (const line of createInterface({ input: child.stderr })) {
        output += `${line}\n`;
        if (!authorizationUrl && line.startsWith(`${stack.issuer}/auth?`)) {
          authorizationUrl = line.trim();
          const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri') ?? '';
          const ua = new UserAgent();
          const atCallback = (url: string) => url.startsWith(redirectUri);
          const page = await ua.authorize(authorizationUrl, atCallback, ALICE);
          expect(atCallback(page.url)).toBe(true);
          expect(new URL(page.url).searchParams.get('iss')).toBe(stack.issuer);
          await fetch(page.url); // deliver the code to mcp-remote's callback server
        }
        if (line.includes('Exiting OK')) break;
      }
      expect(authorizationUrl, output).toBeDefined();
      expect(new URL(authorizationUrl as string).searchParams.get('resource')).toBe(stack.mcpUrl);
      expect(output).toContain('"add_numbers"');
      expect(output).toContain('"server_status"');
    } finally {
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
