import { READY_LINES, type StartedProcess, startProcess } from './process.js';

/**
 * The workspace's two apps as real processes, started the one way every suite, bench and fuzz
 * run starts them: `node` with the workspace packages' sources (the `development` and
 * `@gatehouse/source` export conditions, so nothing needs building first) and tsx, in the app's
 * folder, ready once it logged that it listens and its readiness URL answers 200.
 */

export type WorkspaceApp = 'auth-server' | 'mcp-server';

const READINESS = {
  'auth-server': { port: 'AUTH_PORT', path: '/readyz', line: READY_LINES.authServer },
  'mcp-server': { port: 'MCP_PORT', path: '/healthz', line: READY_LINES.mcpServer },
} as const;

/** The app's folder (`apps/<app>/`); from src/ and dist/ alike. */
export function workspaceAppDir(app: WorkspaceApp): string {
  return new URL(`../../../apps/${app}/`, import.meta.url).pathname;
}

export interface AppLaunch {
  /** The port it listens on (set as AUTH_PORT / MCP_PORT, whatever the issuer or resource says). */
  readonly port: number;
  /** Its configuration variables, on top of this process's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** A shell prefix run in front of node, ending in `exec` (an LD_PRELOAD fault injector). */
  readonly shellPrefix?: string;
  /** How long it may take to be ready (default 20 s, startProcess's). */
  readonly timeoutMs?: number;
}

const NODE_ARGS = [
  '--conditions=development',
  '--conditions=@gatehouse/source',
  '--import',
  'tsx',
  'src/main.ts',
];

export function startApp(app: WorkspaceApp, launch: AppLaunch): Promise<StartedProcess> {
  const readiness = READINESS[app];
  const [command, args] =
    launch.shellPrefix === undefined
      ? ['node', NODE_ARGS]
      : ['sh', ['-c', `${launch.shellPrefix} node ${NODE_ARGS.join(' ')}`]];
  return startProcess(command, args, {
    cwd: workspaceAppDir(app),
    env: { ...launch.env, [readiness.port]: String(launch.port) },
    readyUrl: `http://localhost:${launch.port}${readiness.path}`,
    readyLine: readiness.line,
    ...(launch.timeoutMs === undefined ? {} : { timeoutMs: launch.timeoutMs }),
  });
}

/** The authorization server (apps/auth-server) on `launch.port`. */
export const startAuthServerApp = (launch: AppLaunch) => startApp('auth-server', launch);

/** The MCP server (apps/mcp-server) on `launch.port`. */
export const startMcpServerApp = (launch: AppLaunch) => startApp('mcp-server', launch);
