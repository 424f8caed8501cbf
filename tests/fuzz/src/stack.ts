import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  introspectionClient,
  type StartedProcess,
  startAuthServerApp,
  startMcpServerApp,
  startOnFreePorts,
} from '@gatehouse/testkit';

/**
 * Both apps as real processes, started the way tests/e2e does it (`node --import tsx src/main.ts`,
 * free ports, SQLite in a temp dir), configured so the fuzz reaches the handlers: JSON logs at
 * debug level, rate limits out of the way, three users and a confidential client.
 */

export interface User {
  readonly username: string;
  readonly password: string;
}

/** Credentials made for one run; every value here is a secret the logs are scanned for. */
export interface StackCredentials {
  /** Signs in before the fuzz; the fuzz uses the session, tokens and (wrong) passwords. */
  readonly alice: User;
  /** Holds the refresh token minted before the fuzz and kept from it. */
  readonly bob: User;
  /** Signs in after the fuzz (alice may be throttled by then, by design). */
  readonly carol: User;
  readonly introspector: { readonly id: string; readonly secret: string };
}

export function makeCredentials(): StackCredentials {
  // No ':' or ',' in them: AUTH_USERS is `name:password,...`.
  const password = (name: string) => `${name}-pw-${randomBytes(12).toString('base64url')}`;
  return {
    alice: { username: 'alice', password: password('alice') },
    bob: { username: 'bob', password: password('bob') },
    carol: { username: 'carol', password: password('carol') },
    introspector: {
      id: 'fuzz-introspector',
      secret: `introspector-${randomBytes(18).toString('base64url')}`,
    },
  };
}

/** One app process, its output per stream, and whether it exited while it should not have. */
export interface RunningApp {
  readonly service: 'auth-server' | 'mcp-server';
  readonly process: StartedProcess;
  /** What it wrote, per stream, from its start. */
  streams(): ReadonlyArray<{ readonly name: string; readonly text: string }>;
  /** How it exited without being stopped by us, if it did. */
  unexpectedExit(): { readonly code: number | null; readonly signal: string | null } | undefined;
  stop(): Promise<number | null>;
}

export interface FuzzStack {
  readonly issuer: string;
  readonly authPort: number;
  readonly mcpPort: number;
  readonly mcpUrl: string;
  /** A second resource, with opaque tokens: only a name, nothing listens on port 1. */
  readonly opaqueResource: string;
  readonly auth: RunningApp;
  readonly mcp: RunningApp;
  stop(): Promise<void>;
}

/**
 * Follows one started process: from here on stdout and stderr are kept apart, so a line of one is
 * never split by a chunk of the other; what came before (the startup lines) is kept as it was.
 */
function follow(service: RunningApp['service'], started: StartedProcess): RunningApp {
  const startup = started.output();
  let stdout = '';
  let stderr = '';
  started.child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  started.child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let stopping = false;
  let exit: { code: number | null; signal: string | null } | undefined;
  started.child.once('exit', (code, signal) => {
    if (!stopping) exit = { code, signal };
  });
  return {
    service,
    process: started,
    streams: () => [
      { name: 'startup output', text: startup },
      { name: 'stdout', text: stdout },
      { name: 'stderr', text: stderr },
    ],
    unexpectedExit: () => exit,
    stop() {
      stopping = exit === undefined;
      return started.stop();
    },
  };
}

export function startFuzzStack(credentials: StackCredentials): Promise<FuzzStack> {
  return startOnFreePorts(2, async ([authPort, mcpPort]) => {
    const issuer = `http://localhost:${authPort}`;
    const mcpUrl = `http://localhost:${mcpPort}/mcp`;
    const opaqueResource = 'http://127.0.0.1:1/api';
    const users = [credentials.alice, credentials.bob, credentials.carol]
      .map((user) => `${user.username}:${user.password}`)
      .join(',');
    const log = { LOG_FORMAT: 'json', LOG_LEVEL: 'debug' };
    const authServer = await startAuthServerApp({
      port: authPort,
      env: {
        AUTH_ISSUER: issuer,
        AUTH_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-fuzz-')), 'auth.db')}`,
        AUTH_USERS: users,
        AUTH_RESOURCES: JSON.stringify([
          { resource: mcpUrl, scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'] },
          { resource: opaqueResource, scopes: ['api:read'], accessTokenFormat: 'opaque' },
        ]),
        AUTH_CLIENTS: JSON.stringify([introspectionClient(credentials.introspector)]),
        // The fuzz registers and calls /token thousands of times from a few addresses: without
        // these it would measure the rate limits (429) instead of the handlers behind them.
        AUTH_REGISTRATION_RATE_LIMIT: '1000000',
        AUTH_TOKEN_RATE_LIMIT: '1000000',
        ...log,
      },
    });
    const auth = follow('auth-server', authServer);
    let mcpServer: StartedProcess;
    try {
      mcpServer = await startMcpServerApp({
        port: mcpPort,
        // Its per-user rate limit off, as the authorization server's above.
        env: { MCP_RESOURCE: mcpUrl, AUTH_ISSUER: issuer, MCP_RATE_LIMIT: 'off', ...log },
      });
    } catch (error) {
      await auth.stop();
      throw error;
    }
    const mcp = follow('mcp-server', mcpServer);
    return {
      issuer,
      authPort,
      mcpPort,
      mcpUrl,
      opaqueResource,
      auth,
      mcp,
      async stop() {
        await Promise.all([mcp.stop(), auth.stop()]);
      },
    };
  });
}
