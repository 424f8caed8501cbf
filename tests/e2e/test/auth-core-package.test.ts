import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, obtainToken } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * @gatehouse/auth-core installed the way a user installs it: `npm pack` of the built package, the
 * tarball installed with npm into a scratch project outside the workspace (its dependencies from
 * the registry, as from a publish), its types checked by that project's own tsc (strict,
 * NodeNext), and the compiled consumer (package-consumer/check.ts) run against the real
 * authorization server's tokens.
 */

const run = promisify(execFile);
const repoRoot = new URL('../../../', import.meta.url).pathname;
const authCore = join(repoRoot, 'packages', 'auth-core');
// The versions the workspace builds with (tests/e2e/package.json).
const TYPESCRIPT = '6.0.3';
const TYPES_NODE = '24.19.2';

let stack: Stack;
let project: string;
let other: string;

beforeAll(async () => {
  other = `http://localhost:${await freePort()}/other`;
  stack = await startStack({ extraResources: [{ resource: other, scopes: ['mcp:tools'] }] });
  project = mkdtempSync(join(tmpdir(), 'gatehouse-auth-core-consumer-'));
  const packed = await run('npm', ['pack', '--pack-destination', project], { cwd: authCore });
  const tarball = join(project, packed.stdout.trim().split('\n').at(-1) ?? '');
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        types: ['node'],
        outDir: 'out',
        skipLibCheck: false,
      },
      files: ['check.ts'],
    }),
  );
  copyFileSync(
    join(repoRoot, 'tests', 'e2e', 'package-consumer', 'check.ts'),
    join(project, 'check.ts'),
  );
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      tarball,
      `typescript@${TYPESCRIPT}`,
      `@types/node@${TYPES_NODE}`,
    ],
    { cwd: project },
  );
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('@gatehouse/auth-core from its tarball, in a project outside the workspace', () => {
  it('ships only the built package (no sources, no tests) with its own dependencies', async () => {
    const installed = join(project, 'node_modules', '@gatehouse', 'auth-core');
    const files = readdirSync(installed);
    expect(files).toEqual(expect.arrayContaining(['dist', 'package.json', 'README.md']));
    expect(files).not.toContain('src');
    expect(files).not.toContain('test');
    expect(readdirSync(join(project, 'node_modules'))).toEqual(
      expect.arrayContaining(['jose', 'zod']),
    );
  });

  it("type-checks a consumer with the package's own types, and validates a real token with it", async () => {
    await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', project], { cwd: project });
    const check = (token: string) =>
      run(process.execPath, [join(project, 'out', 'check.js')], {
        cwd: project,
        env: { ...process.env, RESOURCE: stack.mcpUrl, ISSUER: stack.issuer, TOKEN: token },
      }).then(({ stdout }) => JSON.parse(stdout));
    const { accessToken, clientId } = await obtainToken(
      stack.issuer,
      stack.mcpUrl,
      'mcp:tools',
      ALICE,
    );
    expect(await check(accessToken)).toEqual({
      ok: true,
      subject: 'alice',
      clientId,
      stepUpStatus: 403,
      adapters: ['function', 'function', 'function', 'function'],
    });
    // A token of the same server for another resource is refused there too.
    const foreign = await obtainToken(stack.issuer, other, 'mcp:tools', ALICE);
    expect(await check(foreign.accessToken)).toEqual({ ok: false, status: 401 });
  });
});
