import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { listensOn } from './listening.js';

/**
 * A free TCP port on loopback. It is closed again before returning, so that a child process can
 * take it; another process may take it first (see `startOnFreePorts`).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * What our apps log once they listen (their src/main.ts), for `readyLine`: only the process that
 * bound the port prints it.
 */
export const READY_LINES = {
  authServer: 'authorization server ready at ',
  mcpServer: 'MCP server ready at ',
} as const;

export interface StartedProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM (or `signal`), then waits for exit (SIGKILL after 10 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartProcessOptions {
  /** Added to this process's environment. */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly readyUrl: string;
  /** The status that means ready (default 200); `any` takes any HTTP answer. */
  readonly readyStatus?: number | 'any';
  /**
   * Text (or a pattern) the child itself writes once it listens. When given, the process is ready
   * only after it appeared in the child's output and `readyUrl` answers: an answer alone may come
   * from another process that took the port first.
   */
  readonly readyLine?: string | RegExp;
  /**
   * The port the child itself must be listening on before it counts as ready (checked in /proc on
   * Linux, not elsewhere), for children that print no ready line: our apps at LOG_LEVEL=warn.
   */
  readonly listensOn?: number;
  /** How often `readyUrl` is polled, in ms (default 50). */
  readonly pollMs?: number;
  /** How long the process may take to be ready, in ms (default 20 s). */
  readonly timeoutMs?: number;
}

/** A process that exited (or never became ready) during `startProcess`; `output` is all it wrote. */
export class ProcessStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
    /** The exit code, `null` when a signal ended it, `undefined` when it did not exit by itself. */
    readonly exitCode: number | null | undefined,
  ) {
    super(`${message}:\n${output}`);
    this.name = 'ProcessStartError';
  }
}

/** Whether `error` is a process that exited because its port was taken (ours say "already in use"). */
export function portTaken(error: unknown): boolean {
  return (
    error instanceof ProcessStartError &&
    error.exitCode !== undefined &&
    /EADDRINUSE|already in use|address in use|port is in use/i.test(error.output)
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a server process and waits until it is ready: `readyLine` in its output and its own
 * socket on `listensOn` (each when given), and `readyUrl` answering `readyStatus`, polled every
 * `pollMs`. The process exiting first, or `timeoutMs` passing, throws a `ProcessStartError` with
 * the process output.
 */
export async function startProcess(
  command: string,
  args: readonly string[],
  options: StartProcessOptions,
): Promise<StartedProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lineSeen = () =>
    options.readyLine === undefined ||
    (typeof options.readyLine === 'string'
      ? output.includes(options.readyLine)
      : options.readyLine.test(output));
  const ownsPort = async () =>
    options.listensOn === undefined ||
    child.pid === undefined ||
    (await listensOn(child.pid, options.listensOn)) !== false;
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  let exited: number | null | undefined;
  let spawnError: Error | undefined;
  // 'error' without a listener would throw (a command that does not exist); it is reported below.
  child.once('error', (error) => {
    spawnError = error;
  });
  const exit = once(child, 'exit').then(([code]) => {
    exited = code as number | null;
    return exited;
  });
  // After 'exit' the pipes may still hold the last lines (the EADDRINUSE message): wait for them,
  // but not for long, as a grandchild may hold the pipes open.
  const drained = () => Promise.race([once(child, 'close'), sleep(1000)]).then(() => output);
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (spawnError)
      throw new ProcessStartError(
        `${command} could not be started (${spawnError.message})`,
        output,
        null,
      );
    if (exited !== undefined)
      throw new ProcessStartError(
        `process exited with ${exited} before it was ready`,
        await drained(),
        exited,
      );
    if (lineSeen() && (await ownsPort())) {
      try {
        const response = await fetch(options.readyUrl, { signal: AbortSignal.timeout(1000) });
        await response.arrayBuffer();
        const wanted = options.readyStatus ?? 200;
        if (wanted === 'any' || response.status === wanted) break;
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline) {
      const waitingFor = !lineSeen()
        ? `${String(options.readyLine)} in its output (and ${options.readyUrl})`
        : !(await ownsPort())
          ? `socket of its own listening on port ${options.listensOn} (and ${options.readyUrl})`
          : options.readyUrl;
      child.kill('SIGKILL');
      throw new ProcessStartError(`process not ready in time: no ${waitingFor}`, output, undefined);
    }
    await sleep(options.pollMs ?? 50);
  }
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (exited !== undefined) return exited;
      child.kill(signal);
      // A process that ignores the signal must not hang the caller.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Waits until `found` holds for the process's output (log lines reach our pipe after the HTTP
 * answer that caused them, later still on a busy machine); resolves to whether it did within
 * `timeoutMs`, so the caller's own assertion reports what was missing.
 */
export async function waitForOutput(
  process: Pick<StartedProcess, 'output'>,
  found: (output: string) => boolean,
  timeoutMs = 5_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!found(process.output())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export interface ExitedProcess {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end and collects its output; a non-zero exit status is an answer, not an
 * error (CLIs under test report through it).
 */
export function runToExit(
  command: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {},
): Promise<ExitedProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
