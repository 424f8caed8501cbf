import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  obtainToken,
  type StartedProcess,
  startAuthServerApp,
  startOnFreePort,
  startProcess,
} from '@gatehouse/testkit';

/**
 * The reference tutorial's setting, shared by the suites that run its Python resource server
 * (keycloak-tutorial.test.ts, doctor-tutorial.test.ts): the server itself, started only by its
 * environment as the tutorial configures it, and Gatehouse standing in for its Keycloak realm.
 */

const repoRoot = new URL('../../../', import.meta.url).pathname;

// The realm's introspection client (the tutorial calls its own `test-client`; only the name differs).
export const INTROSPECTOR = { id: 'mcp-server', secret: 'tutorial-introspection-secret' };

export interface AuthorizationServer {
  readonly issuer: string;
  /** The issuer's host and port, as the tutorial server's AUTH_HOST and AUTH_PORT. */
  readonly host: string;
  readonly port: number;
  /** A valid token of this server whose audience is not the tutorial server. */
  foreignToken(): Promise<string>;
  stop(): Promise<void>;
}

export interface TutorialServer {
  readonly name: string;
  /** The environment variable naming the interpreter `npm test` installed the SDK into. */
  readonly interpreter: 'GATEHOUSE_PYTHON_MCP1' | 'GATEHOUSE_PYTHON';
  readonly script: readonly string[];
}

export const TUTORIAL_SERVERS: readonly TutorialServer[] = [
  {
    name: 'as published, on mcp 1.x (FastMCP)',
    interpreter: 'GATEHOUSE_PYTHON_MCP1',
    script: ['python-mcp1', 'server.py'],
  },
  {
    name: 'ported to mcp 2.x (MCPServer)',
    interpreter: 'GATEHOUSE_PYTHON',
    script: ['python', 'tutorial_server.py'],
  },
];

/** Our authorization server in Keycloak's URL layout (realm `mcp`), protecting `resource` and one other. */
export async function startGatehouseAsKeycloak(resource: string): Promise<AuthorizationServer> {
  const other = `http://localhost:${await freePort()}/other`;
  return startOnFreePort(async (port) => {
    const origin = `http://localhost:${port}`;
    const server = await startAuthServerApp({
      port,
      env: {
        AUTH_ISSUER: origin,
        AUTH_COMPAT: 'keycloak',
        AUTH_REALM: 'mcp',
        AUTH_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-tutorial-')), 'auth.db')}`,
        AUTH_USERS: 'alice:alice-password',
        // Default token settings (JWT access tokens), as the tutorial leaves Keycloak's.
        AUTH_RESOURCES: JSON.stringify([
          { resource, scopes: ['mcp:tools'], defaultScopes: ['mcp:tools'] },
          { resource: other, scopes: ['mcp:tools'] },
        ]),
        // The tutorial's client as it creates it: "enable client authentication, save".
        AUTH_CLIENTS: JSON.stringify([
          { client_id: INTROSPECTOR.id, client_secret: INTROSPECTOR.secret },
        ]),
        LOG_FORMAT: 'json',
      },
    });
    const issuer = `${origin}/realms/mcp`;
    return {
      issuer,
      host: 'localhost',
      port,
      foreignToken: async () => (await obtainToken(issuer, other, 'mcp:tools')).accessToken,
      stop: async () => {
        await server.stop();
      },
    };
  });
}

/** The tutorial's server on `port`, configured by its environment alone against `as`. */
export async function startTutorialServer(
  server: TutorialServer,
  port: number,
  as: AuthorizationServer,
): Promise<StartedProcess> {
  const python = process.env[server.interpreter];
  if (!python)
    throw new Error(
      `${server.interpreter} is not set: run the tests with \`npm test\`, which installs the Python MCP SDK`,
    );
  return startProcess(python, [join(repoRoot, 'tests', 'e2e', ...server.script)], {
    env: {
      HOST: 'localhost',
      PORT: String(port),
      AUTH_HOST: as.host,
      AUTH_PORT: String(as.port),
      AUTH_REALM: 'mcp',
      OAUTH_CLIENT_ID: INTROSPECTOR.id,
      OAUTH_CLIENT_SECRET: INTROSPECTOR.secret,
      MCP_SCOPE: 'mcp:tools',
    },
    readyUrl: `http://localhost:${port}/.well-known/oauth-protected-resource`,
    // uvicorn's own line: an answer alone may come from another server on the port.
    readyLine: 'Uvicorn running on',
    timeoutMs: 30_000,
  });
}
