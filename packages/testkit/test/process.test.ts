import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startOnFreePort } from '../src/ports.js';
import {
  freePort,
  ProcessStartError,
  portTaken,
  type StartedProcess,
  startProcess,
} from '../src/process.js';

/**
 * Readiness comes from the child itself: a port another server holds answers 200 on the ready URL,
 * which must not make a child that failed to bind it (or never bound it) look ready. And a port
 * taken between `freePort()` and the child binding it is retried with a fresh one.
 */

/** A child server: listens on $PORT (after $BIND_AFTER_MS), then prints its ready line (unless $QUIET). */
const CHILD = `
const port = Number(process.env.PORT);
setTimeout(() => require('node:http')
  .createServer((request, response) => response.end('child'))
  .listen(port, '127.0.0.1', () => { if (!process.env.QUIET) console.log('child listening'); }),
  Number(process.env.BIND_AFTER_MS ?? 0));
`;
/** A child that runs but never listens nor prints anything. */
const SILENT = 'setInterval(() => {}, 1000);';

const servers: Server[] = [];
const children: StartedProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.stop()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Another process's server holding `port` (here: this process's), answering 200 to everything. */
async function occupy(port: number): Promise<Server> {
  const server = createServer((_request, response) => response.end('other'));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return server;
}

async function start(
  script: string,
  port: number,
  options: { readyLine?: string; listensOn?: number; env?: Record<string, string> } = {},
): Promise<StartedProcess> {
  const child = await startProcess(process.execPath, ['-e', script], {
    env: { PORT: String(port), ...options.env },
    readyUrl: `http://127.0.0.1:${port}/`,
    ...(options.readyLine === undefined ? {} : { readyLine: options.readyLine }),
    ...(options.listensOn === undefined ? {} : { listensOn: options.listensOn }),
    timeoutMs: 3_000,
  });
  children.push(child);
  return child;
}

const failure = (promise: Promise<unknown>): Promise<ProcessStartError> =>
  promise.then(
    () => {
      throw new Error('the process counted as ready');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(ProcessStartError);
      return error as ProcessStartError;
    },
  );

describe('startProcess readiness', () => {
  it('without a ready line, another server answering on the port passes for the child (why readyLine exists)', async () => {
    const port = await freePort();
    await occupy(port);
    // It binds late, so the other server answers first (as a child slow to start on a busy machine).
    const child = await start(CHILD, port, { env: { BIND_AFTER_MS: '1000' } });
    // "Ready", yet the child fails to bind and exits: every request went to the other server.
    const [code] = await once(child.child, 'close');
    expect(code).toBe(1);
    expect(child.output()).toContain('EADDRINUSE');
  });

  it('with a ready line, a child that fails to bind a port another server answers on is not ready: it throws with its output', async () => {
    const port = await freePort();
    await occupy(port);
    const error = await failure(start(CHILD, port, { readyLine: 'child listening' }));
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/^process exited with 1 before it was ready/);
    expect(error.output).toContain('EADDRINUSE');
    expect(portTaken(error)).toBe(true);
  });

  it('with a ready line, a running child that never prints it is not ready, though the URL answers 200', async () => {
    const port = await freePort();
    await occupy(port);
    const error = await failure(start(SILENT, port, { readyLine: 'child listening' }));
    expect(error.exitCode).toBeUndefined();
    expect(error.message).toContain('not ready in time: no child listening in its output');
    expect(portTaken(error)).toBe(false);
  });

  it('is ready once the child printed its line and the URL answers', async () => {
    const port = await freePort();
    const child = await start(CHILD, port, { readyLine: 'child listening' });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('child');
    expect(child.output()).toContain('child listening');
  });

  it.runIf(process.platform === 'linux')(
    'with listensOn, a child that prints nothing is ready only once it holds the port itself',
    async () => {
      const port = await freePort();
      await start(CHILD, port, { listensOn: port, env: { QUIET: '1' } });
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('child');

      const taken = await freePort();
      await occupy(taken);
      const error = await failure(start(SILENT, taken, { listensOn: taken }));
      expect(error.message).toContain(`no socket of its own listening on port ${taken}`);
    },
  );
});

describe('startOnFreePort', () => {
  it('starts again on a fresh port when the child found its port taken', async () => {
    const tried: number[] = [];
    const started = await startOnFreePort(async (port) => {
      tried.push(port);
      // Another test file's server takes the first port between freePort() and the child's bind.
      if (tried.length === 1) await occupy(port);
      return { port, child: await start(CHILD, port, { readyLine: 'child listening' }) };
    });
    expect(tried).toHaveLength(2);
    expect(started.port).toBe(tried[1]);
    expect(await (await fetch(`http://127.0.0.1:${started.port}/`)).text()).toBe('child');
  });

  it('gives up after `attempts` taken ports, with the last failure', async () => {
    let calls = 0;
    const error = await failure(
      startOnFreePort(
        async (port) => {
          calls++;
          await occupy(port);
          return start(CHILD, port, { readyLine: 'child listening' });
        },
        { attempts: 2 },
      ),
    );
    expect(calls).toBe(2);
    expect(portTaken(error)).toBe(true);
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    const error = await failure(
      startOnFreePort(async (port) => {
        calls++;
        return start('console.error("bad configuration"); process.exit(1)', port, {
          readyLine: 'child listening',
        });
      }),
    );
    expect(calls).toBe(1);
    expect(error.output).toContain('bad configuration');
  });
});
