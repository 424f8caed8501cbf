import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Report } from '@gatehouse/doctor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

/**
 * @gatehouse/doctor as users run it: `npm pack` of the built package, then `npx` of that tarball
 * in a scratch folder outside the workspace (its dependencies from the registry, as after a
 * publish). The client corpus must ship inside it: the summary table reads it.
 */
const run = promisify(execFile);
const doctor = new URL('../../../packages/doctor/', import.meta.url).pathname;

let stack: Stack;
let scratch: string;
let tarball: string;

beforeAll(async () => {
  stack = await startStack();
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-doctor-npx-'));
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  const packed = await run('npm', ['pack', '--pack-destination', scratch], { cwd: doctor });
  tarball = join(scratch, packed.stdout.trim().split('\n').at(-1) ?? '');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('npx @gatehouse/doctor (the packed package)', () => {
  it('runs from the tarball and judges every client of the shipped corpus', async () => {
    const { stdout } = await run(
      'npx',
      ['--yes', '--package', tarball, 'gatehouse-doctor', stack.mcpUrl, '--json'],
      { cwd: scratch, timeout: 120_000 },
    );
    const report = JSON.parse(stdout) as Report;
    expect(report.ok).toBe(true);
    expect(report.summary.fail).toBe(0);
    expect(report.clients?.map((c) => c.id)).toContain('claude-code');
    expect(report.clients?.length).toBeGreaterThanOrEqual(18);
  }, 180_000);
});
