import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keycloakCacheDir, startKeycloak } from '@gatehouse/keycloak-runner';
import { freePort } from '@gatehouse/testkit';
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

/** Stops every server still running; resolves when all have exited (also those already stopping). */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...running].map((server) => server.stop()));
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
  for (const server of running) {
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
export async function startKeycloakServer(): Promise<BenchServer> {
  const [port, managementPort] = await twoFreePorts();
  const keycloak = await startKeycloak({
    cacheDir: keycloakCacheDir(),
    port,
    managementPort,
    mcpResource: MCP_RESOURCE,
    database: 'mem',
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

/**
 * Our authorization server as users run it in production: `node dist/main.js` in apps/auth-server,
 * a fresh SQLite file, one user, the MCP resource; ready when GET /readyz answers 200 (polled every
 * 10 ms). The registration rate limit is raised: its default (30 per IP per 10 minutes) would stop a
 * bench that registers a client per flow.
 */
export async function startAuthServer(): Promise<BenchServer> {
  const { appDir, main } = authServerMain();
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-auth-'));
  dataDirs.add(dataDir);
  const env = {
    ...process.env,
    AUTH_ISSUER: issuer,
    AUTH_STORE: `sqlite:${join(dataDir, 'auth.db')}`,
    AUTH_USERS: 'alice:alice-password',
    AUTH_RESOURCES: JSON.stringify([
      { resource: MCP_RESOURCE, scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'] },
    ]),
    AUTH_REGISTRATION_RATE_LIMIT: '1000000',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd: appDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exitCode: number | null | undefined;
  const exited = once(child, 'exit').then(([code]) => {
    exitCode = code as number | null;
  });
  const pid = child.pid ?? 0;
  let readyMs = Number.NaN;
  const server = tracked(
    {
      system: 'auth-server',
      issuer,
      pid,
      get readyMs() {
        return readyMs;
      },
    },
    async () => {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
      dataDirs.delete(dataDir);
    },
  );

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exitCode !== undefined) {
      await server.stop();
      throw new Error(`auth-server exited with ${exitCode} before it was ready:\n${output}`);
    }
    try {
      const response = await fetch(`${issuer}/readyz`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`auth-server not ready at ${issuer}/readyz in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  readyMs = performance.now() - started;
  return server;
}
