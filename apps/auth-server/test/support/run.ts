import { spawn } from 'node:child_process';

export interface RunResult {
  /** The exit code; `null` when a signal ended the process (`signal` says which). */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const appDir = new URL('../..', import.meta.url).pathname;

/**
 * Runs `node --import tsx <script> ...args` in apps/auth-server to its end, without blocking this
 * process: spawnSync would stop the event loop for seconds (more on a busy machine), so the HTTP
 * client would not notice a server closing an idle kept-alive connection meanwhile and would send
 * the next request on the dead socket. SIGKILLed after `timeoutMs` (60 s).
 */
export function runApp(
  script: 'src/cli.ts' | 'src/main.ts',
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['--import', 'tsx', script, ...args], {
      cwd: appDir,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    // A child that exits without reading its stdin must not fail the write (EPIPE).
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
