import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keycloakCacheDir, startKeycloak } from '@gatehouse/keycloak-runner';
import {
  freePort,
  type RunningRedis,
  type StartedProcess,
  type StartProcessOptions,
  startOnFreePort,
  startProcess,
  startRedis,
} from '@gatehouse/testkit';
import { isAlive, processTree } from './process-memory.js';

/** The MCP resource both servers issue tokens for (the realm's `mcpResource`, our AUTH_RESOURCES). */
export const MCP_RESOURCE = 'http://localhost:3000/mcp';
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type SystemName = 'keycloak' | 'auth-server';

export interface BenchServer {
  readonly system: SystemName;
  readonly issuer: string;
  /** Root of the server's process tree (Keycloak: the `kc.sh` shell; auth-server: node). */
  readonly pid: number;
  /** From spawn until the server answered its readiness probe. */
  readonly readyMs: number;
  /** Stops the server and waits until every process of its tree has exited (idempotent). */
  stop(): Promise<void>;
}

/** Servers not stopped yet (or still stopping), so that a failure or a signal can stop them. */
const running = new Set<BenchServer>();
/** Child servers (MCP servers, the tutorial's server) not stopped yet. */
const children = new Set<ChildServer>();

/** redis-server instances the bench started (testkit stops them when this process exits). */
const redisServers = new Set<RunningRedis>();

/** Stops every server still running; resolves when all have exited (also those already stopping). */
export async function stopAll(): Promise<void> {
  await Promise.allSettled(
    [...running, ...children, ...redisServers].map((server: { stop(): Promise<void> }) =>
      server.stop(),
    ),
  );
  redisServers.clear();
}

/** Ctrl-C or SIGTERM: every server is stopped (`stopAll`) before the bench exits with 130. */
export function stopAllOnSignal(onSignal: () => void = () => {}): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      onSignal();
      console.error(`\n${signal}: stopping the servers`);
      void stopAll().then(() => process.exit(130));
    });
  }
}

/** A fresh redis-server (testkit's), stopped by `stopAll` with the other servers. */
export async function startBenchRedis(): Promise<RunningRedis> {
  const redis = await startRedis();
  redisServers.add(redis);
  return redis;
}

/** Adds an idempotent `stop` (later calls wait for the first) and tracks the server until it exited. */
function tracked(fields: Omit<BenchServer, 'stop'>, stop: () => Promise<void>): BenchServer {
  let stopping: Promise<void> | undefined;
  // Object.assign keeps `fields` itself (and so a `readyMs` getter).
  const server: BenchServer = Object.assign(fields, {
    stop: () => {
      stopping ??= stop().finally(() => running.delete(server));
      return stopping;
    },
  });
  running.add(server);
  return server;
}

/** auth-server data directories not removed yet. */
const dataDirs = new Set<string>();

// Last resort when the bench process exits without stopping its servers (an uncaught error in the
// middle of a run): no JVM or node server may outlive it.
process.once('exit', () => {
  for (const server of [...running, ...children]) {
    for (const pid of processTree(server.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function twoFreePorts(): Promise<[number, number]> {
  const first = await freePort();
  for (;;) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
}

/** Waits until none of `pids` is alive; SIGKILLs what is left after `graceMs`. */
async function reap(pids: readonly number[], graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) {
      for (const pid of pids.filter(isAlive)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited in between
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A real Keycloak via `@gatehouse/keycloak-runner`: `kc.sh start --optimized`, the `mcp` realm
 * imported into an in-memory H2 database, ready when the realm's discovery document answers (the
 * launcher polls every 250 ms). Free ports, so a test suite's Keycloak can run at the same time.
 */
export async function startKeycloakServer(
  options: {
    mcpResource?: string;
    /** `file`: H2 in a fresh directory, persisted like our SQLite file (default: in memory). */
    database?: 'mem' | 'file';
  } = {},
): Promise<BenchServer> {
  const [port, managementPort] = await twoFreePorts();
  const dataDir =
    options.database === 'file' ? mkdtempSync(join(tmpdir(), 'gatehouse-bench-kc-')) : undefined;
  if (dataDir) dataDirs.add(dataDir);
  const keycloak = await startKeycloak({
    cacheDir: keycloakCacheDir(),
    port,
    managementPort,
    mcpResource: options.mcpResource ?? MCP_RESOURCE,
    database: dataDir ? { dir: dataDir } : 'mem',
  });
  const pid = keycloak.child.pid ?? 0;
  const fields = {
    system: 'keycloak',
    issuer: keycloak.issuer,
    pid,
    readyMs: keycloak.readyAfterMs,
  } as const;
  return tracked(fields, async () => {
    // kc.sh forwards SIGTERM to the JVM and waits for it; if the launcher has to SIGKILL the
    // shell, the JVM would be left behind, so the whole tree is reaped.
    const tree = processTree(pid);
    await keycloak.stop(30_000);
    await reap(tree, 10_000);
    if (dataDir) {
      rmSync(dataDir, { recursive: true, force: true });
      dataDirs.delete(dataDir);
    }
  });
}

/** The built authorization server, `apps/auth-server/dist/main.js` (found through the dependency). */
export function authServerMain(): { appDir: string; main: string } {
  const require = createRequire(import.meta.url);
  const appDir = dirname(require.resolve('@gatehouse/auth-server/package.json'));
  const main = join(appDir, 'dist', 'main.js');
  if (!existsSync(main))
    throw new Error(
      `${main} is missing: run \`pnpm --filter @gatehouse/auth-server build\` (\`pnpm bench\` builds it)`,
    );
  return { appDir, main };
}

/** The built MCP server (`apps/mcp-server/dist/main.js`), found through the dependency. */
export function mcpServerApp(): { appDir: string; main: string } {
  const require = createRequire(import.meta.url);
  const appDir = dirname(require.resolve('@gatehouse/mcp-server/package.json'));
  const main = join(appDir, 'dist', 'main.js');
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`pnpm --filter @gatehouse/mcp-server build\``);
  return { appDir, main };
}

/** A server the bench started as a child process (an MCP server, the tutorial's Python server). */
export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  /** From spawn until the server answered its readiness probe. */
  readonly readyMs: number;
  stop(): Promise<void>;
}

/**
 * testkit's `startProcess` (readiness polled every 10 ms, so start-up times are exact to ~10 ms,
 * 60 s at most), timed from spawn to ready and tracked so that `stopAll` and the exit hook stop it.
 */
export async function startChildServer(
  name: string,
  command: string,
  args: readonly string[],
  options: {
    cwd: string;
    /** Added to this process's environment. */
    env?: Record<string, string>;
    readyUrl: string;
    /** The status that means ready (default 200); `any` takes any HTTP answer. */
    readyStatus?: number | 'any';
    /**
     * What proves the answer on `readyUrl` comes from this child, not from another process that
     * took the port: a line it prints, or (our apps at LOG_LEVEL=warn print none) its own socket.
     */
    readyLine?: StartProcessOptions['readyLine'];
    listensOn?: number;
    /** Extra clean-up after the process exited (data directories). */
    afterStop?: () => void;
  },
): Promise<ChildServer> {
  const started = performance.now();
  let child: StartedProcess;
  try {
    child = await startProcess(command, args, {
      cwd: options.cwd,
      ...(options.env ? { env: options.env } : {}),
      readyUrl: options.readyUrl,
      ...(options.readyStatus === undefined ? {} : { readyStatus: options.readyStatus }),
      ...(options.readyLine === undefined ? {} : { readyLine: options.readyLine }),
      ...(options.listensOn === undefined ? {} : { listensOn: options.listensOn }),
      pollMs: 10,
      timeoutMs: 60_000,
    });
  } catch (error) {
    options.afterStop?.();
    // Rethrown as is when the port was taken, so that `startOnFreePort` tries another one.
    if (error instanceof Error) error.message = `${name}: ${error.message}`;
    throw error;
  }
  const readyMs = performance.now() - started;
  let stopping: Promise<void> | undefined;
  const server: ChildServer = {
    name,
    pid: child.child.pid ?? 0,
    readyMs,
    stop: () => {
      stopping ??= (async () => {
        await child.stop();
        options.afterStop?.();
        children.delete(server);
      })();
      return stopping;
    },
  };
  children.add(server);
  return server;
}

export interface AuthServerOptions {
  /** `AUTH_STORE`; default a fresh SQLite file. */
  readonly store?: string;
  /** `AUTH_RESOURCES`; default the MCP resource with JWT access tokens. */
  readonly resources?: readonly Record<string, unknown>[];
  /** More environment, e.g. `AUTH_CLIENTS` or a raised `AUTH_TOKEN_RATE_LIMIT`. */
  readonly env?: Record<string, string>;
}

/**
 * Our authorization server as users run it in production: `node dist/main.js` in apps/auth-server,
 * a fresh SQLite file (or `options.store`), one user, the MCP resource; ready when it listens on
 * its port itself and GET /readyz answers 200 (polled every 10 ms); another free port when the
 * first was taken meanwhile. The registration rate limit is raised: its default (30 per IP per 10
 * minutes) would stop a bench that registers a client per flow.
 */
export async function startAuthServer(options: AuthServerOptions = {}): Promise<BenchServer> {
  const { appDir, main } = authServerMain();
  const { issuer, child } = await startOnFreePort(async (port) => {
    const issuer = `http://localhost:${port}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-auth-'));
    dataDirs.add(dataDir);
    const child = await startChildServer('auth-server', process.execPath, [main], {
      cwd: appDir,
      env: {
        AUTH_ISSUER: issuer,
        AUTH_STORE: options.store ?? `sqlite:${join(dataDir, 'auth.db')}`,
        AUTH_USERS: 'alice:alice-password',
        AUTH_RESOURCES: JSON.stringify(
          options.resources ?? [
            {
              resource: MCP_RESOURCE,
              scopes: ['mcp:tools', 'mcp:admin'],
              defaultScopes: ['mcp:tools'],
            },
          ],
        ),
        AUTH_REGISTRATION_RATE_LIMIT: '1000000',
        // No request log under load; so no "ready at" line either: `listensOn` tells it is ours.
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        ...options.env,
      },
      readyUrl: `${issuer}/readyz`,
      listensOn: port,
      afterStop: () => {
        rmSync(dataDir, { recursive: true, force: true });
        dataDirs.delete(dataDir);
      },
    });
    return { issuer, child };
  });
  return tracked(
    {
      system: 'auth-server',
      issuer,
      pid: child.pid,
      readyMs: child.readyMs,
    },
    () => child.stop(),
  );
}
