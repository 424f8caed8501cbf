import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  type StartedProcess,
  startAuthServerApp,
  startOnFreePort,
  startProcess,
} from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DoctorRun, findingOf as finding, runDoctorJson } from './doctor-cli.js';

/**
 * `gatehouse-doctor` (the built CLI) against the reference tutorial's Python resource server as
 * published (python-mcp1/server.py on mcp 1.x, started as keycloak-tutorial.test.ts starts it),
 * with Gatehouse's authorization server in Keycloak's URL layout (AUTH_COMPAT=keycloak, realm
 * `mcp`) standing in for Keycloak: it starts in a second, and the tutorial server's mistakes are
 * its own either way. The tutorial server builds its issuer as `http://AUTH_HOST:AUTH_PORT/realms/
 * AUTH_REALM/` (config.py, with a trailing slash, which its urljoin calls need) and lists that in
 * its protected resource metadata, while the authorization server's issuer has no trailing slash.
 *
 * The doctor is given the URL the tutorial tells users to enter in VS Code and Claude Code:
 * `http://localhost:<port>`, without a path.
 *
 * DEBUG_DOCTOR=1 prints each text report.
 */

const repoRoot = new URL('../../../', import.meta.url).pathname;
// The realm's introspection client (the tutorial's `test-client`; only the name differs).
const INTROSPECTOR = { id: 'mcp-server', secret: 'tutorial-introspection-secret' };
const ALICE = { username: 'alice', password: 'alice-password' };

let authServer: StartedProcess;
let tutorial: StartedProcess;
/** The authorization server's issuer: `http://localhost:<port>/realms/mcp`. */
let issuer: string;
/** The tutorial server's URL as users enter it. */
let serverUrl: string;

beforeAll(async () => {
  const python = process.env.GATEHOUSE_PYTHON_MCP1;
  if (!python)
    throw new Error(
      'GATEHOUSE_PYTHON_MCP1 is not set: run the tests with `npm test`, which installs the Python MCP SDK',
    );
  // The tutorial server's port is its resource, which the authorization server must know first.
  const port = await freePort();
  serverUrl = `http://localhost:${port}`;
  authServer = await startOnFreePort((asPort) => {
    issuer = `http://localhost:${asPort}/realms/mcp`;
    return startAuthServerApp({
      port: asPort,
      env: {
        AUTH_ISSUER: `http://localhost:${asPort}`,
        AUTH_COMPAT: 'keycloak',
        AUTH_REALM: 'mcp',
        AUTH_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-doctor-tutorial-')), 'auth.db')}`,
        AUTH_USERS: `${ALICE.username}:${ALICE.password}`,
        // Default token settings (JWT access tokens), as the tutorial leaves Keycloak's.
        AUTH_RESOURCES: JSON.stringify([
          { resource: serverUrl, scopes: ['mcp:tools'], defaultScopes: ['mcp:tools'] },
        ]),
        // The tutorial's client as it creates it: "enable client authentication, save".
        AUTH_CLIENTS: JSON.stringify([
          { client_id: INTROSPECTOR.id, client_secret: INTROSPECTOR.secret },
        ]),
        LOG_FORMAT: 'json',
      },
    });
  });
  tutorial = await startProcess(
    python,
    [join(repoRoot, 'tests', 'e2e', 'python-mcp1', 'server.py')],
    {
      env: {
        HOST: 'localhost',
        PORT: String(port),
        AUTH_HOST: 'localhost',
        AUTH_PORT: new URL(issuer).port,
        AUTH_REALM: 'mcp',
        OAUTH_CLIENT_ID: INTROSPECTOR.id,
        OAUTH_CLIENT_SECRET: INTROSPECTOR.secret,
        MCP_SCOPE: 'mcp:tools',
      },
      readyUrl: `${serverUrl}/.well-known/oauth-protected-resource`,
      // uvicorn's own line: an answer alone may come from another server on the port.
      readyLine: 'Uvicorn running on',
      timeoutMs: 30_000,
    },
  );
}, 120_000);

afterAll(async () => {
  await tutorial?.stop();
  await authServer?.stop();
});

const doctor = (args: readonly string[], login?: typeof ALICE) =>
  runDoctorJson(serverUrl, args, login);

/** Every warn and fail of a run, as `id status`, sorted. */
const problemIds = (run: DoctorRun) =>
  (run.report?.findings ?? [])
    .filter((f) => f.status === 'warn' || f.status === 'fail')
    .map((f) => `${f.id} ${f.status}`)
    .sort();

/** What the doctor reports about the tutorial server, before and after sign-in alike. */
const TRUE_PROBLEMS = [
  // True, the point of this suite: the metadata lists ".../realms/mcp/", the authorization
  // server's issuer is ".../realms/mcp" (RFC 8414 §3.3: identical). The MCP Python SDK (1.30,
  // 2.3) compares them as strings and stops; the TS SDK v2 (2.4) tolerates one trailing "/".
  'authorization-server.issuer fail',
  // True (a SHOULD of the MCP spec), from mcp 1.x's FastMCP middleware, not the tutorial's code;
  // harmless here because the resource metadata's scopes_supported is ["mcp:tools"].
  'challenge.scope warn',
  // True (RFC 6750 §3.1: no error code without credentials), from mcp 1.x's FastMCP middleware:
  // `Bearer error="invalid_token", error_description="Authentication required"` with no token.
  'challenge.error-without-token warn',
];

describe("gatehouse doctor against the tutorial's Python server as published", () => {
  it('fails the issuer its metadata lists with a trailing slash, names the exact issuer in the fix and exits 1', async () => {
    const run = await doctor([]);
    expect(run.status).toBe(1);
    const found = finding(run, 'authorization-server.issuer');
    expect(found?.status).toBe('fail');
    expect(found?.title).toBe(
      `issuer is "${issuer}", but the resource metadata names "${issuer}/"`,
    );
    expect(found?.fix).toBe(
      `List exactly "${issuer}" in the protected resource metadata's authorization_servers.`,
    );
    expect(finding(run, 'resource-metadata.authorization-servers')?.title).toBe(
      `Authorization server: ${issuer}/`,
    );
    expect(problemIds(run)).toEqual([...TRUE_PROBLEMS].sort());
    // Registration and the authorization requests are the authorization server's, and pass.
    for (const id of [
      'registration.registered',
      'authorization-request.accepted',
      'authorization-request.pkce-required',
    ])
      expect(finding(run, id)?.status, id).toBe('pass');
  });

  it('with --login: the same problems, and tokens for the resource pass its introspection', async () => {
    const run = await doctor(['--login'], ALICE);
    expect(run.status).toBe(1);
    expect(problemIds(run)).toEqual([...TRUE_PROBLEMS].sort());
    for (const id of ['login.iss', 'token.exchange', 'token.aud', 'mcp.calls', 'refresh.issued'])
      expect(finding(run, id)?.status, id).toBe('pass');
  }, 120_000);
});
