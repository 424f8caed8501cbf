import { freePort, type StartedProcess } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DoctorRun, findingOf as finding, runDoctorJson } from './doctor-cli.js';
import {
  type AuthorizationServer,
  startGatehouseAsKeycloak,
  startTutorialServer,
  TUTORIAL_SERVERS,
  type TutorialServer,
} from './tutorial-stack.js';

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

const ALICE = { username: 'alice', password: 'alice-password' };
const [PUBLISHED] = TUTORIAL_SERVERS as [TutorialServer];

let as: AuthorizationServer;
let tutorial: StartedProcess;
/** The authorization server's issuer: `http://localhost:<port>/realms/mcp`. */
let issuer: string;
/** The tutorial server's URL as users enter it. */
let serverUrl: string;

beforeAll(async () => {
  // The tutorial server's port is its resource, which the authorization server must know first.
  const port = await freePort();
  serverUrl = `http://localhost:${port}`;
  as = await startGatehouseAsKeycloak(serverUrl);
  issuer = as.issuer;
  tutorial = await startTutorialServer(PUBLISHED, port, as);
}, 120_000);

afterAll(async () => {
  await tutorial?.stop();
  await as?.stop();
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
