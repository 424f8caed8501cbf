import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { delimiter, join } from 'node:path';
import { freePort } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';

/**
 * The README's first command, `npm run dev` (scripts/workspace.mjs dev), run the way a new user runs
 * it: with the machine's own Node, which on our machines is Node 20. The script must bring Node 24
 * and run on it (saying so in one line), start both servers with one banner, and Ctrl-C (SIGINT to
 * the whole process group, as a terminal sends it) must leave nothing running.
 */

const repoRoot = new URL('../../../', import.meta.url).pathname;
const tools = join(repoRoot, '.tools');
// The machine's PATH without the Node 24 our own test run is on.
const machinePath = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => !dir.startsWith(tools))
  .join(delimiter);
const machineNode = spawnSync('sh', ['-c', 'command -v node'], {
  env: { PATH: machinePath },
  encoding: 'utf8',
}).stdout.trim();
const machineMajor = Number(
  spawnSync(machineNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.split(
    '.',
  )[0],
);

const answers = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
};

describe('npm run dev with the machine Node', () => {
  it.each([
    ['Ctrl-C (SIGINT to the whole process group, as a terminal sends it)', 'group'],
    ['a SIGINT to the root script alone', 'script'],
  ] as const)(
    `starts both servers on Node 24 (machine: Node ${machineMajor}); %s stops everything`,
    { timeout: 120_000 },
    async (_how, target) => {
      const [authPort, mcpPort] = [await freePort(), await freePort()];
      const issuer = `http://localhost:${authPort}`;
      const resource = `http://localhost:${mcpPort}/mcp`;
      const child = spawn(machineNode, [join(repoRoot, 'scripts', 'workspace.mjs'), 'dev'], {
        cwd: repoRoot,
        env: {
          ...process.env,
          PATH: machinePath,
          AUTH_ISSUER: issuer,
          MCP_RESOURCE: resource,
          AUTH_RESOURCES: JSON.stringify([{ resource, scopes: ['mcp:tools'] }]),
          AUTH_STORE: 'memory',
          LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so the test can signal it the way a terminal does.
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      const exited = once(child, 'exit');
      try {
        const deadline = Date.now() + 90_000;
        while (!output.includes('Gatehouse dev stack ready') && Date.now() < deadline) {
          if (child.exitCode !== null) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(output, output.slice(-3000)).toContain('Gatehouse dev stack ready');
        if (machineMajor < 24)
          expect(output).toMatch(
            /Node v\d+\.\d+\.\d+ is older than the project's runtime: running on Node 24\.\d+\.\d+ from \.tools\/node24/,
          );
        expect(output).toContain(`MCP server            ${resource}`);
        expect(await answers(`${issuer}/readyz`)).toBe(true);
        expect(await answers(`${new URL(resource).origin}/healthz`)).toBe(true);
      } finally {
        if (child.pid && child.exitCode === null)
          process.kill(target === 'group' ? -child.pid : child.pid, 'SIGINT');
      }
      await Promise.race([
        exited,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('dev did not stop within 30 s of SIGINT')), 30_000),
        ),
      ]);
      // Nothing left listening.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await answers(`${issuer}/readyz`)).toBe(false);
      expect(await answers(`${new URL(resource).origin}/healthz`)).toBe(false);
    },
  );
});
