import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '@gatehouse/audit';
import { obtainToken, type RunningRedis, startRedis, workspaceAppDir } from '@gatehouse/testkit';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startStack } from './stack.js';

/**
 * The MCP server's tool calls join the authorization server's audit trail when MCP_AUDIT_STORE
 * names its store: `cli audit` finds them beside the sign-ins and tokens, and `grants list` says
 * when each grant was last used. On one SQLite file (two processes) and on one Redis.
 */

let redis: RunningRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

/** The authorization server's CLI against `store`, to its end. */
function cli(
  store: string,
  args: readonly string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=development',
        '--conditions=@gatehouse/source',
        '--import',
        'tsx',
        'src/cli.ts',
        ...args,
      ],
      { cwd: workspaceAppDir('auth-server'), env: { ...process.env, AUTH_STORE: store } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.each([
  [
    'one SQLite file',
    () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-e2e-audit-')), 'auth.db')}`,
  ],
  ['one Redis', () => redis.url],
])("tool calls on the authorization server's trail: %s", (_name, storeFor) => {
  it('are found by cli audit with their grant, and grants list shows when each grant was last used', async () => {
    const store = storeFor();
    const stack = await startStack({
      authEnv: { AUTH_STORE: store },
      mcpEnv: { MCP_AUDIT_STORE: store },
    });
    try {
      const { accessToken, clientId } = await obtainToken(
        stack.issuer,
        stack.mcpUrl,
        'mcp:tools',
        ALICE,
      );
      const client = new Client({ name: 'audited', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {
          requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
        }),
      );
      await client.callTool({ name: 'add_numbers', arguments: { a: 1, b: 2 } });
      // A call refused for its scope is audited too, as denied.
      await expect(client.callTool({ name: 'server_status', arguments: {} })).rejects.toThrow(
        /Insufficient scope/,
      );
      await client.close();

      // Stored in batches (every 50 ms): poll briefly.
      let calls: AuditEvent[] = [];
      for (let attempt = 0; attempt < 40 && calls.length < 2; attempt++) {
        const answer = await cli(store, [
          'audit',
          '--type',
          'tool_call',
          '--client',
          clientId,
          '--json',
        ]);
        expect(answer.status, answer.stderr).toBe(0);
        calls = JSON.parse(answer.stdout) as AuditEvent[];
        if (calls.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const [call, denied] = calls;
      expect(denied).toMatchObject({
        type: 'tool_call',
        outcome: 'denied',
        actor: 'alice',
        detail: { tool: 'server_status' },
      });
      expect(call).toMatchObject({
        type: 'tool_call',
        outcome: 'success',
        actor: 'alice',
        client: clientId,
        resource: stack.mcpUrl,
        detail: { tool: 'add_numbers' },
      });
      expect(call?.grant).toMatch(/\S/);
      expect(call?.requestId).toMatch(/\S/);
      // Never the arguments.
      expect(JSON.stringify(calls)).not.toContain('"a"');

      // The same grant's token issue is on the trail, from the other app.
      const issuedAnswer = await cli(store, [
        'audit',
        '--type',
        'token_issued',
        '--grant',
        call?.grant ?? '',
        '--json',
      ]);
      // Its stderr, should the CLI fail (seen once under CI load, reason unknown).
      expect(issuedAnswer.status, issuedAnswer.stderr).toBe(0);
      const issued = JSON.parse(issuedAnswer.stdout) as AuditEvent[];
      expect(issued).toHaveLength(1);

      const grants = await cli(store, ['grants', 'list']);
      const line = grants.stdout.split('\n').find((row) => row.startsWith(`${call?.grant}\t`));
      expect(line).toMatch(
        /\tissued \d{4}-[\d-]+T[\d:.]+Z\trefreshed -\tused \d{4}-[\d-]+T[\d:.]+Z$/,
      );
    } finally {
      await stack.stop();
    }
  });
});
