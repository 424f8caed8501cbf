import { readFileSync } from 'node:fs';
import { type Misconfiguration, runToExit, startMisconfiguredServer } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import type { Report } from '../src/index.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const BROWSER = `${process.execPath} ${new URL('./support/follow-redirects.mjs', import.meta.url).pathname}`;

const cli = (args: string[]) =>
  runToExit(process.execPath, [CLI, ...args], { env: { ...process.env, BROWSER } });

async function against<T>(
  misconfigurations: Misconfiguration[],
  run: (mcpUrl: string) => Promise<T>,
): Promise<T> {
  const server = await startMisconfiguredServer({ misconfigurations });
  try {
    return await run(server.mcpUrl);
  } finally {
    await server.close();
  }
}

describe('the gatehouse-doctor command', () => {
  it('exits 0 and prints a JSON report when nothing fails, sign-in through $BROWSER included', async () => {
    const run = await against([], (url) => cli([url, '--login', '--json', '--timeout', '20']));
    expect(run.stderr).toContain('Sign in (as a typical native client) at:');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.ok).toBe(true);
    expect(report.summary.fail).toBe(0);
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(report.version).toBe(manifest.version);
    expect(report.findings.find((f) => f.id === 'refresh.race')?.status).toBe('pass');
    expect(report.clients?.length).toBeGreaterThan(10);
  });

  it('exits 1 on a failure and prints the problem with its spec clause, fix and evidence', async () => {
    const run = await against(['issuer-mismatch'], (url) => cli([url]));
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /✖ issuer is "http:\/\/127\.0\.0\.1:\d+\/", but the resource metadata names/,
    );
    expect(run.stdout).toContain('Spec: RFC 8414 §3.3');
    expect(run.stdout).toMatch(/Fix: List exactly "http:\/\/127\.0\.0\.1:\d+\/"/);
    expect(run.stdout).toMatch(
      /> GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server/,
    );
    expect(run.stdout).toMatch(/1 failed, 0 warnings/);
  });

  it('exits 0 on warnings alone', async () => {
    const run = await against(['offline-access-in-prm'], (url) => cli([url]));
    expect(run.stdout).toMatch(/0 failed, 1 warnings/);
    expect(run.status).toBe(0);
  });

  it('exits 1 when the server is unreachable, and 2 on usage errors', async () => {
    const unreachable = await cli(['http://127.0.0.1:9/mcp']);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stdout).toContain('[challenge.reachable]');
    expect((await cli([])).status).toBe(2);
    expect((await cli(['not a url'])).status).toBe(2);
    expect((await cli(['http://127.0.0.1:9/mcp', '--port', '70000'])).status).toBe(2);
    const help = await cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: gatehouse-doctor <mcp-url>');
  });

  it('lists the client corpus', async () => {
    const run = await cli(['--list-clients']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^claude-code\s+Claude Code/m);
    expect(run.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(18);
  });
});
