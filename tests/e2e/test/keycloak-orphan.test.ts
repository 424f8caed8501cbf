import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

/**
 * Keycloak runs in its own process group (so that a stop reaches kc.sh and the JVM), which also
 * means nothing stops it when the process that started it dies without running its exit hooks
 * (SIGKILL: a test runner killing its workers, an OOM kill). The launcher's watchdog must.
 */

const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

describe('Keycloak launcher', () => {
  it('stops Keycloak when the process that started it is SIGKILLed', async () => {
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./keycloak-holder.ts', import.meta.url).pathname],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // The first line, or the holder's exit if it fails before printing one.
    const [line] = (await Promise.race([
      once(createInterface({ input: holder.stdout }), 'line'),
      once(holder, 'exit').then(([code]) => {
        throw new Error(`the Keycloak holder exited with ${code} before Keycloak was ready`);
      }),
    ])) as [string];
    const { baseUrl, pid } = JSON.parse(line) as { baseUrl: string; pid: number };
    const discovery = `${baseUrl}/realms/mcp/.well-known/openid-configuration`;
    try {
      expect(await answers(discovery)).toBe(true);
      holder.kill('SIGKILL');
      const deadline = Date.now() + 30_000;
      while ((groupAlive(pid) || (await answers(discovery))) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 250));
      expect(groupAlive(pid)).toBe(false);
      expect(await answers(discovery)).toBe(false);
    } finally {
      holder.kill('SIGKILL');
      if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
  }, 240_000);
});
