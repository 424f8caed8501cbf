import { freePort, portTaken } from './process.js';

/** A tuple of `N` numbers, so that `([a, b]) => ...` gets two ports, not `number | undefined`. */
export type Ports<N extends number, Acc extends number[] = []> = Acc['length'] extends N
  ? Acc
  : Ports<N, [...Acc, number]>;

/**
 * Runs `start` with `count` distinct ports from `freePort()`, and again with fresh ones (up to
 * `attempts` times, 3 by default) when it fails because a process it started found its port taken
 * (`portTaken`). `freePort()` closes its probe before the child binds, so a server of another test
 * file can take the port in between. `start` must stop what it started before it rethrows.
 */
export async function startOnFreePorts<N extends number, T>(
  count: N,
  start: (ports: Ports<N>) => Promise<T>,
  options: { attempts?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    while (ports.length < count) {
      const port = await freePort();
      // The kernel may hand out a port it just released again.
      if (!ports.includes(port)) ports.push(port);
    }
    try {
      return await start(ports as Ports<N>);
    } catch (error) {
      if (attempt >= attempts || !portTaken(error)) throw error;
    }
  }
}

/** `startOnFreePorts` with one port. */
export function startOnFreePort<T>(
  start: (port: number) => Promise<T>,
  options: { attempts?: number } = {},
): Promise<T> {
  return startOnFreePorts(1, ([port]) => start(port), options);
}
