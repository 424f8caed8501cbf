import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { freePort, parseForms, UserAgent } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startAuthServer } from './support/server.js';

/**
 * The MCP conformance suite's authorization-server scenarios (`conformance authorization`,
 * 0.2.0-alpha.12): metadata, and an authorization-code grant with PKCE and `resource` but no
 * `scope`. It runs on the project's runtime (Node 24; the suite needs Node >= 22). Its browser
 * step is driven by the headless user agent, and the redirect reaches the suite's own callback.
 */

describe('MCP conformance suite: authorization server', () => {
  it('passes the metadata and authorization-code scenarios', async () => {
    const callbackPort = await freePort();
    const server = await startAuthServer({
      AUTH_CLIENTS: JSON.stringify([
        {
          client_id: 'mcp-conformance',
          client_name: 'MCP conformance suite',
          redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`],
          token_endpoint_auth_method: 'none',
        },
      ]),
    });
    try {
      const cli = new URL(
        '../node_modules/@modelcontextprotocol/conformance/dist/index.js',
        import.meta.url,
      ).pathname;
      const child = spawn(
        process.execPath,
        [
          cli,
          'authorization',
          '--url',
          server.issuer,
          '--client-id',
          'mcp-conformance',
          '-p',
          String(callbackPort),
          '--resource',
          MCP_RESOURCE,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      for await (const line of createInterface({ input: child.stdout })) {
        output += `${line}\n`;
        if (!line.startsWith(`${server.issuer}/auth?`)) continue;
        // The suite's callback server starts right after it prints the URL.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const ua = new UserAgent();
        const atCallback = (url: string) =>
          url.startsWith(`http://127.0.0.1:${callbackPort}/callback`);
        let page = await ua.navigate(line, atCallback);
        for (let step = 0; step < 3 && !atCallback(page.url); step++) {
          const form = parseForms(page.body, page.url)[0];
          if (!form) throw new Error(`no form on ${page.url}:\n${page.body.slice(0, 300)}`);
          page =
            'password' in form.fields
              ? await ua.submit(form, { username: 'alice', password: 'alice-password' }, atCallback)
              : await ua.submit(form, {}, atCallback, 'allow');
        }
        expect(atCallback(page.url)).toBe(true);
        await fetch(page.url);
      }
      const code = await exited;
      // Kept as a test artifact: the suite's own account of every check.
      mkdirSync(new URL('../.reports/', import.meta.url), { recursive: true });
      writeFileSync(new URL('../.reports/conformance-authorization.txt', import.meta.url), output);
      expect(output, output).toMatch(/authorization-code-grant/);
      expect(code, output).toBe(0);
      expect(output).toMatch(/Total: [1-9]\d* passed, 0 failed/);
    } finally {
      await server.process.stop();
    }
  }, 120_000);
});
