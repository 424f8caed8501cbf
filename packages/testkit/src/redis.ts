import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { startOnFreePort } from './ports.js';
import { ProcessStartError } from './process.js';

/** A real redis-server on loopback for tests: no persistence unless asked, its own free port. */
export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

function redisServerBinary(): string {
  const candidates = [process.env.GATEHOUSE_REDIS_SERVER, '/usr/bin/redis-server'];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found)
    throw new Error(
      "redis-server not found: run the tests with `npm test` (it installs Debian's redis-server as root) or set GATEHOUSE_REDIS_SERVER",
    );
  return found;
}

async function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}

/**
 * Starts redis-server (`port` to reuse one, e.g. after a restart; else a free one, another when a
 * concurrent test file's server took it first); resolves once it says it is ready and answers PING.
 */
export async function startRedis(
  options: { port?: number; dir?: string } = {},
): Promise<RunningRedis> {
  return options.port === undefined
    ? startOnFreePort((port) => startRedisOn(port, options.dir))
    : startRedisOn(options.port, options.dir);
}

// Its own line (7.0; 7.2+ appends the transport): a PONG alone may come from another test file's
// redis-server on the same port.
const READY_LINE = 'Ready to accept connections';

async function startRedisOn(port: number, dir: string | undefined): Promise<RunningRedis> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  if (dir) args.push('--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always');
  const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit');
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const deadline = Date.now() + 10_000;
  while (!output.includes(READY_LINE) || !(await pong(port))) {
    if (gone()) {
      // Its last lines (the bind failure) may still be in the pipe.
      await Promise.race([
        once(child, 'close'),
        new Promise((resolve) => setTimeout(resolve, 1000)),
      ]);
      throw new ProcessStartError('redis-server exited', output, child.exitCode);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new ProcessStartError(`redis-server not ready on ${port}`, output, undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (gone()) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
