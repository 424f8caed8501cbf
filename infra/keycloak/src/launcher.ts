import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Distribution, ensureDistribution, KEYCLOAK_VERSION } from './distribution.js';
import { findJavaHome } from './java.js';

/** The realm import for MCP: `infra/keycloak/mcp-realm.json`. */
export const REALM_FILE = fileURLToPath(new URL('../mcp-realm.json', import.meta.url));
export const REALM = 'mcp';

export interface KeycloakOptions {
  /** Where the distribution is downloaded, unpacked and built (outside git). */
  readonly cacheDir: string;
  readonly port?: number;
  readonly managementPort?: number;
  /** The MCP resource the realm's `mcp:tools`/`mcp:admin` scopes put in `aud`. */
  readonly mcpResource: string;
  /** The introspection client's secret (realm placeholder KC_MCP_INTROSPECTION_SECRET). */
  readonly introspectionSecret?: string;
  /** `mem` (fresh realm every start, for tests) or a directory for an H2 file database. */
  readonly database: 'mem' | { readonly dir: string };
  readonly features?: readonly string[];
  readonly adminPassword?: string;
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Keycloak's own console output, line by line (default: kept in memory only). */
  readonly onOutput?: (chunk: string) => void;
}

export interface RunningKeycloak {
  readonly baseUrl: string;
  /** `<baseUrl>/realms/mcp`, the `iss` of every token. */
  readonly issuer: string;
  readonly distribution: Distribution;
  readonly child: ChildProcess;
  /** Milliseconds from spawn to the realm's discovery document answering 200. */
  readonly readyAfterMs: number;
  output(): string;
  /** SIGTERM, then waits for the JVM to exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a real Keycloak with the `mcp` realm imported and resolves once the realm's discovery
 * document answers. Placeholders in the realm file (`${MCP_RESOURCE}`) come from the environment
 * Keycloak is started with.
 */
export async function startKeycloak(options: KeycloakOptions): Promise<RunningKeycloak> {
  const log = options.log ?? (() => {});
  const javaHome = findJavaHome();
  const distribution = ensureDistribution(options.cacheDir, {
    javaHome,
    log,
    ...(options.features ? { features: options.features } : {}),
  });
  const port = options.port ?? 8180;
  const managementPort = options.managementPort ?? port + 1000;
  const baseUrl = `http://127.0.0.1:${port}`;
  const issuer = `${baseUrl}/realms/${REALM}`;

  // --import-realm reads <home>/data/import; the realm is skipped when it already exists (file db).
  const importDir = join(distribution.home, 'data', 'import');
  mkdirSync(importDir, { recursive: true });
  copyFileSync(REALM_FILE, join(importDir, `${REALM}-realm.json`));

  const dbUrl =
    options.database === 'mem'
      ? `jdbc:h2:mem:keycloak-${port};DB_CLOSE_DELAY=-1;NON_KEYWORDS=VALUE`
      : `jdbc:h2:file:${join(options.database.dir, 'keycloakdb')};NON_KEYWORDS=VALUE;AUTO_SERVER=TRUE`;
  const args = [
    'start',
    '--optimized',
    '--http-enabled=true',
    '--http-host=127.0.0.1',
    `--http-port=${port}`,
    `--http-management-port=${managementPort}`,
    `--hostname=${baseUrl}`,
    `--db-url=${dbUrl}`,
    '--import-realm',
  ];
  const started = Date.now();
  const child = spawn(join(distribution.home, 'bin', 'kc.sh'), args, {
    cwd: distribution.home,
    env: {
      ...process.env,
      JAVA_HOME: javaHome,
      KC_BOOTSTRAP_ADMIN_USERNAME: 'admin',
      KC_BOOTSTRAP_ADMIN_PASSWORD: options.adminPassword ?? 'admin',
      MCP_RESOURCE: options.mcpResource,
      KC_MCP_INTROSPECTION_SECRET: options.introspectionSecret ?? 'mcp-server-introspection-secret',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: kc.sh runs java as a child, and a SIGKILL must reach both.
    detached: true,
  });
  const signalTree = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    options.onOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exitCode: number | null | undefined;
  // A JVM must not outlive the process that started it (a crashed test worker, a killed CLI).
  const killOnExit = () => signalTree('SIGKILL');
  process.once('exit', killOnExit);
  if (child.pid !== undefined) watchParent(child.pid);
  const exited = once(child, 'exit').then(([code]) => {
    exitCode = code as number | null;
    process.removeListener('exit', killOnExit);
  });

  const stop = async (graceMs = 20_000) => {
    if (exitCode !== undefined) return;
    signalTree('SIGTERM');
    const timer = setTimeout(() => signalTree('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const deadline = started + (options.readyTimeoutMs ?? 180_000);
  const discovery = `${issuer}/.well-known/openid-configuration`;
  // Quarkus's start-up line ("Keycloak 26.7.3 on JVM ... started in 15.9s. Listening on: <url>."):
  // only the process that bound the port prints it, while the discovery URL could be answered by
  // another server that took the port (our auth-server with AUTH_COMPAT=keycloak serves it too).
  const listening = `Listening on: ${baseUrl}`;
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`Keycloak exited with ${exitCode} before it was ready:\n${output}`);
    try {
      if (output.includes(listening)) {
        const response = await fetch(discovery, { signal: AbortSignal.timeout(2000) });
        if (response.status === 200) break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop(1000);
      const missing = output.includes(listening) ? discovery : `"${listening}" in its output`;
      throw new Error(`Keycloak not ready in time (no ${missing}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    baseUrl,
    issuer,
    distribution,
    child,
    readyAfterMs: Date.now() - started,
    output: () => output,
    stop,
  };
}

/**
 * The exit hook above does not run when this process is SIGKILLed (a test runner killing its
 * workers, an OOM kill), and Keycloak runs in its own process group, so it would live on. A small
 * detached shell watches both: when this process is gone it stops Keycloak's group (TERM, then KILL);
 * when Keycloak's group is gone it exits.
 */
function watchParent(group: number): void {
  const script = `while kill -0 -${group} 2>/dev/null; do
  if ! kill -0 ${process.pid} 2>/dev/null; then
    kill -TERM -${group} 2>/dev/null; sleep 5; kill -KILL -${group} 2>/dev/null; exit 0
  fi
  sleep 1
done`;
  spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
}

export { KEYCLOAK_VERSION };
