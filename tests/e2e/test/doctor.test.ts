import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Report } from '@gatehouse/doctor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problems, runDoctorCli } from './doctor-cli.js';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * `gatehouse-doctor` (the built CLI, as `npx @gatehouse/doctor` runs it) against our own stack:
 * real processes, real sign-in pages driven through $BROWSER. Everything passes, sign-in,
 * refresh races and step-up included, and every known client is judged to connect.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('gatehouse doctor against Gatehouse', () => {
  it('passes every check with --login, and no credential reaches the report', async () => {
    const run = await runDoctorCli(
      [stack.mcpUrl, '--login', '--json', '--verbose', '--timeout', '30'],
      ALICE,
    );
    expect(run.stderr).toContain('Sign in (as a typical native client) at:');
    expect(problems(run.report)).toEqual([]);
    expect(run.status).toBe(0);
    const passed = new Set(
      run.report?.findings.filter((f) => f.status === 'pass').map((f) => f.id),
    );
    for (const id of [
      'challenge.resource-metadata',
      'resource-metadata.resource',
      'authorization-server.issuer',
      'registration.registered',
      'authorization-request.loopback-port',
      'authorization-request.pkce-required',
      'login.iss',
      'token.aud',
      'mcp.calls',
      'refresh.issued',
      'refresh.without-scope',
      'refresh.with-scope',
      'refresh.race',
      'token.without-resource',
    ])
      expect(passed, id).toContain(id);
    expect(run.report?.findings.find((f) => f.id === 'token.step-up')?.title).toMatch(/granted/);
    // The one known limitation of the corpus on our stack: SDK v1 steps up by refreshing.
    expect(
      run.report?.clients?.filter((c) => c.status !== 'pass').map((c) => [c.id, c.status]),
    ).toEqual([['ts-sdk-v1', 'warn']]);
    // Tokens, codes, refresh tokens and the test client's registration never appear, only "[redacted]".
    expect(run.stdout).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(run.stdout).not.toMatch(/"(access_token|refresh_token|code)"\s*:\s*"(?!\[redacted\])/);
    expect(run.stdout).not.toMatch(/[?&]code=(?!\[redacted\])/);
    expect(run.stdout).toContain('[redacted]');
  });

  it('judges the chain as one client with its own registration and authorization request (--as)', async () => {
    const run = await runDoctorCli([stack.mcpUrl, '--as', 'cursor', '--as', 'vscode']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/✔ Cursor \(desktop IDE\) connects/);
    expect(run.stdout).toMatch(/✔ VS Code .* connects/);
    expect(run.stdout).toContain('How each known client will fare');
  });

  it('npm run -s doctor -- <url> --json prints the report alone on stdout (setting up goes to stderr)', async () => {
    const repoRoot = new URL('../../../', import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [`${repoRoot}scripts/workspace.mjs`, 'doctor', stack.mcpUrl, '--json'],
      { cwd: repoRoot, timeout: 120_000 },
    );
    const report = JSON.parse(stdout) as Report;
    expect(report.ok).toBe(true);
    expect(report.target).toBe(stack.mcpUrl);
  }, 150_000);

  it('exits 2 on a usage error, naming the known clients for an unknown --as', async () => {
    const unknown = await runDoctorCli([stack.mcpUrl, '--as', 'netscape']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown client: netscape');
    expect(unknown.stderr).toContain('claude-code');
    expect((await runDoctorCli([])).status).toBe(2);
    expect((await runDoctorCli(['ftp://example.com/mcp'])).status).toBe(2);
  });
});
