import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type HeadlessLogin,
  type StartedProcess,
  startAuthServerApp,
  startMcpServerApp,
  startOnFreePorts,
} from '@gatehouse/testkit';

/** The stack's one user (AUTH_USERS). */
export const ALICE: HeadlessLogin = { username: 'alice', password: 'alice-password' };

/** The dev stack as real processes: the authorization server and the MCP server, on free ports. */
export interface Stack {
  readonly issuer: string;
  readonly mcpUrl: string;
  readonly authServer: StartedProcess;
  readonly mcpServer: StartedProcess;
  stop(): Promise<void>;
}

export async function startStack(
  options: {
    authEnv?: Record<string, string>;
    mcpEnv?: Record<string, string>;
    extraResources?: unknown[];
    /** Opaque (introspectable, instantly revocable) access tokens for the MCP resource instead of JWTs. */
    opaqueTokens?: boolean;
  } = {},
): Promise<Stack> {
  // Fresh ports for both when either was taken: the MCP server's URL is in the authorization
  // server's AUTH_RESOURCES.
  return startOnFreePorts(2, async ([authPort, mcpPort]) => {
    const issuer = `http://localhost:${authPort}`;
    const mcpUrl = `http://localhost:${mcpPort}/mcp`;
    const resources = [
      {
        resource: mcpUrl,
        scopes: ['mcp:tools', 'mcp:admin'],
        defaultScopes: ['mcp:tools'],
        ...(options.opaqueTokens ? { accessTokenFormat: 'opaque' } : {}),
      },
      ...(options.extraResources ?? []),
    ];
    const authServer = await startAuthServer(authPort, resources, options.authEnv);
    let mcpServer: StartedProcess;
    try {
      mcpServer = await startMcpServerApp({
        port: mcpPort,
        env: { MCP_RESOURCE: mcpUrl, AUTH_ISSUER: issuer, LOG_FORMAT: 'json', ...options.mcpEnv },
      });
    } catch (error) {
      await authServer.stop();
      throw error;
    }
    return {
      issuer,
      mcpUrl,
      authServer,
      mcpServer,
      async stop() {
        await Promise.all([mcpServer.stop(), authServer.stop()]);
      },
    };
  });
}

/** The authorization server alone on `port`, with ALICE and `resources` (AUTH_RESOURCES entries). */
export function startAuthServer(
  port: number,
  resources: readonly unknown[],
  env: Record<string, string> = {},
): Promise<StartedProcess> {
  return startAuthServerApp({
    port,
    env: {
      AUTH_ISSUER: `http://localhost:${port}`,
      AUTH_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-e2e-')), 'auth.db')}`,
      AUTH_USERS: `${ALICE.username}:${ALICE.password}`,
      AUTH_RESOURCES: JSON.stringify(resources),
      LOG_FORMAT: 'json',
      ...env,
    },
  });
}
