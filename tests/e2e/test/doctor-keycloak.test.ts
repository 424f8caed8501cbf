import {
  type KeycloakAdmin,
  keycloakAdmin,
  type RunningKeycloak,
} from '@gatehouse/keycloak-runner';
import {
  freePort,
  type StartedProcess,
  startMcpServerApp,
  startOnFreePort,
} from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DoctorRun, findingOf as finding, runDoctorJson } from './doctor-cli.js';
import { startTestKeycloak } from './keycloak-stack.js';

/**
 * `gatehouse-doctor` (the built CLI) against a real Keycloak realm "out of the box", as a user who
 * followed only part of the reference tutorial has it: a new realm `doctor` with Keycloak's
 * defaults (anonymous client registration behind a "Trusted Hosts" policy that lists no host, no
 * client policies, 5-minute access tokens), plus only what the tutorial has users click together
 * in the console: a Default client scope `mcp:tools` included in the token scope (the scope our MCP
 * server's challenge names, hard-coded in apps/mcp-server as SCOPE_TOOLS), a user, and a public
 * client with standard flow and one loopback redirect URI. No Audience mapper, no trusted hosts.
 * Our MCP server in front of it validates Keycloak's JWTs (aud must be the MCP URL). alice signs in
 * on Keycloak's real login page through $BROWSER (tests/e2e/doctor/headless-browser.ts).
 *
 * DEBUG_DOCTOR=1 prints each text report.
 */

const REALM = 'doctor';
const ALICE = { username: 'alice', password: 'alice-password' };
const CLIENT_ID = 'my-mcp-client';

let keycloak: RunningKeycloak;
let mcp: StartedProcess;
let mcpUrl: string;
let issuer: string;
/** The one port of the hand-made client's redirect URI http://127.0.0.1:<port>/callback. */
let callbackPort: number;

async function create(admin: KeycloakAdmin, path: string, body: unknown): Promise<string> {
  const response = await admin(path, { method: 'POST', body });
  if (response.status !== 201)
    throw new Error(`Keycloak POST ${path}: ${response.status} ${await response.text()}`);
  return response.headers.get('location')?.split('/').pop() ?? '';
}

/** The realm as a user leaves it after the console steps above, nothing else changed. */
async function createRealm(admin: KeycloakAdmin): Promise<void> {
  await create(admin, '/admin/realms', { realm: REALM, enabled: true });
  const base = `/admin/realms/${REALM}`;
  // The defaults this suite is about, as a new realm gets them.
  const policies = (await (
    await admin(
      `${base}/components?type=org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy`,
    )
  ).json()) as { name: string; subType: string; config: Record<string, string[]> }[];
  const trustedHosts = policies.find(
    (p) => p.name === 'Trusted Hosts' && p.subType === 'anonymous',
  );
  expect(trustedHosts?.config['trusted-hosts'] ?? []).toEqual([]);
  expect(await (await admin(`${base}/client-policies/policies`)).json()).toEqual({ policies: [] });
  // Clients → Client scopes → Create: mcp:tools, type Default, "Include in token scope" on.
  const scope = await create(admin, `${base}/client-scopes`, {
    name: 'mcp:tools',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true' },
  });
  const asDefault = await admin(`${base}/default-default-client-scopes/${scope}`, {
    method: 'PUT',
  });
  if (!asDefault.ok) throw new Error(`Keycloak default client scope: ${asDefault.status}`);
  await create(admin, `${base}/users`, {
    username: ALICE.username,
    enabled: true,
    email: 'alice@example.test',
    emailVerified: true,
    firstName: 'Alice',
    lastName: 'Example',
    credentials: [{ type: 'password', value: ALICE.password, temporary: false }],
  });
  // Clients → Create client, as the console creates it: client authentication off (public),
  // standard flow and direct access grants on, one valid redirect URI.
  await create(admin, `${base}/clients`, {
    clientId: CLIENT_ID,
    protocol: 'openid-connect',
    publicClient: true,
    standardFlowEnabled: true,
    directAccessGrantsEnabled: true,
    redirectUris: [`http://127.0.0.1:${callbackPort}/callback`],
  });
}

beforeAll(async () => {
  // The launcher always imports its own `mcp` realm too; this suite does not use it.
  keycloak = await startTestKeycloak({ mcpResource: 'http://localhost:3000/mcp' });
  issuer = `${keycloak.baseUrl}/realms/${REALM}`;
  callbackPort = await freePort();
  await createRealm(await keycloakAdmin(keycloak));
  mcp = await startOnFreePort((port) => {
    mcpUrl = `http://localhost:${port}/mcp`;
    return startMcpServerApp({
      port,
      env: {
        MCP_RESOURCE: mcpUrl,
        AUTH_ISSUER: issuer,
        // Keycloak's access tokens are typed `JWT`, not RFC 9068's `at+jwt`.
        AUTH_MODE: 'jwt',
        AUTH_ALLOW_PLAIN_JWT: 'true',
        LOG_FORMAT: 'json',
      },
    });
  });
}, 180_000);

afterAll(async () => {
  await mcp?.stop();
  await keycloak?.stop();
});

const doctor = (args: readonly string[], login?: typeof ALICE) =>
  runDoctorJson(mcpUrl, args, login);
const status = (run: DoctorRun, id: string) => finding(run, id)?.status;

describe('gatehouse doctor against a default Keycloak realm (no Audience mapper, no trusted hosts)', () => {
  it('fails the test registration on the Trusted Hosts policy, and names it in the fix', async () => {
    const run = await doctor([]);
    expect(run.status).toBe(1);
    const registered = finding(run, 'registration.registered');
    expect(registered?.status).toBe('fail');
    expect(registered?.title).toContain("Policy 'Trusted Hosts' rejected request");
    expect(registered?.fix).toMatch(/Keycloak's anonymous registration policy "Trusted Hosts"/);
    // Genuine: Keycloak advertises code_challenge_methods_supported ["plain", "S256"], and plain
    // only protects a code from whoever cannot see the authorization request.
    expect(status(run, 'authorization-request.pkce-plain')).toBe('warn');
    // Without a client the authorization requests cannot be probed.
    expect(status(run, 'authorization-request.accepted')).toBe('skip');
    // Every client that registers dynamically stops there, by the corpus.
    const refused = run.report?.clients?.filter((c) => c.reasons[0]?.includes('Trusted Hosts'));
    expect(refused?.map((c) => c.id)).toContain('vscode');
  });

  it('with the hand-made public client and a sign-in on the Keycloak login page: wrong aud, PKCE not enforced', async () => {
    const run = await doctor(
      ['--client-id', CLIENT_ID, '--port', String(callbackPort), '--login', '--reuse-wait', '5'],
      ALICE,
    );
    expect(run.stderr).toMatch(/Sign in\b.* at:/);
    expect(run.status).toBe(1);
    expect(status(run, 'registration.registered')).toBe('skip');
    // The sign-in itself works: Keycloak's login page, the code exchange of a public client.
    expect(status(run, 'authorization-request.accepted')).toBe('pass');
    expect(status(run, 'login.iss')).toBe('pass');
    expect(status(run, 'token.exchange')).toBe('pass');

    // Genuine, the point of the suite: without an Audience mapper Keycloak ignores `resource` and
    // issues aud "account", so an MCP server that checks the audience refuses every token.
    const aud = finding(run, 'token.aud');
    expect(aud?.status).toBe('fail');
    expect(aud?.title).toContain('"account"');
    expect(aud?.fix).toContain(
      `In Keycloak: an Audience mapper with included.custom.audience = ${mcpUrl}`,
    );
    // Genuine, the same cause seen from the MCP server: initialize answers 401.
    expect(status(run, 'mcp.calls')).toBe('fail');
    // Genuine, the same cause for clients that send no resource (the default scope carries no aud).
    expect(status(run, 'token.without-resource')).toBe('warn');

    // Genuine: no client policy requires PKCE and the client has no PKCE method set, so an
    // authorization request without code_challenge leads to Keycloak's login page.
    const pkce = finding(run, 'authorization-request.pkce-required');
    expect(pkce?.status).toBe('fail');
    expect(pkce?.fix).toContain('pkce-enforcer');
    // Genuine: the same client may use code_challenge_method=plain (the login page is shown).
    expect(finding(run, 'authorization-request.pkce-plain')).toMatchObject({
      status: 'warn',
      title: 'PKCE "plain" is accepted',
    });
    // Genuine for this client: Keycloak matches a loopback redirect URI registered with a port
    // exactly ("Invalid parameter: redirect_uri" for port+1, RFC 8252 §7.3 says any port), so
    // clients that pick a port per run cannot reuse it. (Registered without a port,
    // http://127.0.0.1/callback, Keycloak does accept any port.)
    expect(status(run, 'authorization-request.loopback-port')).toBe('fail');
    // Genuine: Keycloak's default access token lifespan is 300 s, which VS Code refreshes on every
    // request (it refreshes tokens that expire within 5 minutes).
    expect(finding(run, 'token.lifetime')).toMatchObject({
      status: 'warn',
      title: 'Access tokens live 300 s',
    });
    // Genuine: "Revoke Refresh Token" is off by default, so a refresh token rotated out keeps
    // working (until the session's idle timeout, 30 min): no reuse detection at all.
    expect(finding(run, 'refresh.reuse')).toMatchObject({
      status: 'warn',
      title: 'A rotated-out refresh token still refreshes 5 s after it was used',
    });
    // Genuine: our MCP server's metadata offers mcp:admin, which this realm does not define, so
    // every client that steps up to it is refused (invalid_scope) whoever signs in.
    expect(finding(run, 'token.step-up')).toMatchObject({ status: 'warn' });
    expect(finding(run, 'token.step-up')?.title).toContain('invalid_scope');
    // Keycloak leaves "none" out of token_endpoint_auth_methods_supported yet serves public
    // clients (token.exchange passed above without a secret): information, not a problem.
    expect(status(run, 'authorization-server.public-clients')).toBe('info');
    // The step-up sign-in's refusal is the step-up finding's, not a failed sign-in.
    expect(finding(run, 'login.authorization')).toBeUndefined();
  }, 120_000);
});
