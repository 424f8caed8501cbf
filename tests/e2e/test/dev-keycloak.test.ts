import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort, obtainToken } from '@gatehouse/testkit';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run dev:keycloak` itself (scripts/dev-keycloak.mjs): from nothing running to a Keycloak and
 * an MCP server configured by `.env.keycloak`, a token from Keycloak accepted, and everything gone
 * after one Ctrl-C (SIGINT). Ports come from the environment, which wins over the profile.
 */

const repoRoot = new URL('../../../', import.meta.url).pathname;

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

describe('npm run dev:keycloak', () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterAll(() => {
    // Only if the test failed half-way: the whole group, Keycloak's JVM included.
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  });

  for (const mode of ['jwt', 'introspection'] as const) {
    it(`starts Keycloak and the MCP server (${mode} mode), serves a Keycloak token, and stops everything on SIGINT`, async () => {
      const [keycloakPort, managementPort, mcpPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const issuer = `http://127.0.0.1:${keycloakPort}/realms/mcp`;
      const mcpUrl = `http://localhost:${mcpPort}/mcp`;
      child = spawn(process.execPath, [join(repoRoot, 'scripts', 'dev-keycloak.mjs')], {
        cwd: repoRoot,
        env: {
          ...process.env,
          AUTH_ISSUER: issuer,
          MCP_RESOURCE: mcpUrl,
          AUTH_MODE: mode,
          KEYCLOAK_MANAGEMENT_PORT: String(managementPort),
          LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = once(child, 'exit');
      const deadline = Date.now() + 240_000;
      while (!output.includes('MCP server against Keycloak, ready in')) {
        if (child.exitCode !== null) throw new Error(`dev:keycloak exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`dev:keycloak not ready in time:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(output).toContain(`AUTH_MODE=${mode}`);

      const { accessToken } = await obtainToken(issuer, mcpUrl, 'openid mcp:tools');
      const response = await fetch(mcpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          authorization: `Bearer ${accessToken}`,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      expect(response.status).toBe(200);

      child.kill('SIGINT');
      await exited;
      // Everything it started is gone: neither port answers any more.
      const gone = Date.now() + 30_000;
      while ((await answers(issuer)) || (await answers(mcpUrl))) {
        if (Date.now() > gone) throw new Error(`still running after SIGINT:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }, 300_000);
  }
});
