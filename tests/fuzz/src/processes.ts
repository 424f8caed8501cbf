import { checkLogLines, checkLogSecrets } from './checks.js';
import type { Finding } from './findings.js';
import type { SecretRegistry } from './secrets.js';
import type { RunningApp } from './stack.js';

/** A process that exited without being asked to: one finding each, saying when it was noticed. */
export function exitedProcesses(apps: readonly RunningApp[], when: string): Finding[] {
  return apps.flatMap((app) => {
    const exit = app.unexpectedExit();
    return exit
      ? [
          {
            kind: 'process-exit' as const,
            endpoint: app.service,
            detail: `exited ${when} (code ${exit.code}, signal ${exit.signal})`,
          },
        ]
      : [];
  });
}

/**
 * Stops the processes that still run (a stop that does not end with exit code 0 is a finding),
 * then reads everything they wrote, stopped so that every line is flushed: each stream must be
 * JSON lines (but for `banner` lines) and must hold none of the run's secrets. `save` receives
 * each process's output, for whoever investigates a finding.
 */
export async function stopAndReadLogs(
  apps: readonly RunningApp[],
  secrets: SecretRegistry,
  banner: readonly RegExp[],
  save: (service: string, output: string) => void,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const app of apps) {
    const alive = app.unexpectedExit() === undefined;
    const code = await app.stop();
    if (alive && code !== 0)
      findings.push({
        kind: 'process-exit',
        endpoint: app.service,
        detail: `did not stop cleanly on SIGTERM (exit code ${code})`,
      });
  }
  for (const app of apps) {
    save(
      app.service,
      app
        .streams()
        .map((s) => `# ${s.name}\n${s.text}`)
        .join('\n'),
    );
    for (const stream of app.streams()) {
      const service = `${app.service} ${stream.name}`;
      findings.push(...checkLogLines(service, stream.text, banner));
      findings.push(...checkLogSecrets(service, stream.text, secrets));
    }
  }
  return findings;
}
