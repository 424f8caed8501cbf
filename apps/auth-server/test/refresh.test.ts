import { createJwtVerifier } from '@gatehouse/auth-core';
import { UserAgent, waitForOutput } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arriveTogether,
  authorize,
  exchangeCode,
  MCP_RESOURCE,
  type RunningServer,
  refreshRequest,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

/**
 * Refresh as real clients do it (issue 12):
 * - Racing refreshes with one refresh token: the MCP TypeScript SDK's `auth()` has no single-flight,
 *   so parallel requests that hit 401 after expiry each refresh (MCP Inspector, mcp-remote, Cline,
 *   Continue, opencode); opencode and Claude Code also race across processes sharing credentials.
 *   Every caller must get a working answer; a replay long after must still revoke the family.
 * - `offline_access` without `prompt=consent`, and a refresh naming it: the Rust SDK and the clients
 *   built on it (Codex, Goose). rmcp (modelcontextprotocol/rust-sdk, crates/rmcp/src/transport/auth.rs)
 *   adds offline_access when `scopes_supported` lists it (`add_offline_access_if_supported`, since
 *   v1.3.0), never sends `prompt`, and since v1.8.0 `AuthorizationManager::refresh_token` sends
 *   `scope=<granted scopes> offline_access`.
 * - One grant (refresh-token family) per authorization: identical registrations share a client id,
 *   so two installations of one client must not share a family.
 */

type TokenAnswer = Awaited<ReturnType<typeof tokenRequest>>;

/** A refresh for the MCP resource, as the MCP clients here send it. */
const refreshWith = (
  issuer: string,
  clientId: string,
  refreshToken: unknown,
  extra: Record<string, string> = {},
  auth?: { id: string; secret: string },
) => refreshRequest(issuer, clientId, refreshToken, { resource: MCP_RESOURCE, ...extra }, auth);

/** A new authorization (its own browser) and code exchange: one installation's first tokens. */
async function signIn(issuer: string, clientId: string, scope?: string): Promise<TokenAnswer> {
  const result = await authorize(issuer, { clientId, ...(scope ? { scope } : {}) });
  const tokens = await exchangeCode(issuer, clientId, result);
  expect(tokens.status).toBe(200);
  return tokens;
}

const errorsOf = (answers: TokenAnswer[]) =>
  answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.body.error}`);

/** Audit lines the server wrote for `event`, parsed. */
const auditLines = (server: RunningServer, event: string) =>
  server.process
    .output()
    .split('\n')
    .filter((line) => line.includes(`"event":"${event}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Audit lines for `event` once the first arrived (log lines reach us after the answer does). */
async function awaitAuditLines(server: RunningServer, event: string) {
  await waitForOutput(server.process, (output) => output.includes(`"event":"${event}"`));
  return auditLines(server, event);
}

describe('racing and retried refreshes (reuse interval, 30 s by default)', () => {
  let server: RunningServer;
  let clientId: string;
  beforeAll(async () => {
    server = await startAuthServer({
      AUTH_REGISTRATION_RATE_LIMIT: '1000',
      AUTH_TOKEN_RATE_LIMIT: '100000',
    });
    clientId = (await register(server.issuer)).body.client_id;
  });
  afterAll(() => server.process.stop());

  it('answers two and three simultaneous refreshes with one token with working tokens, every time', async () => {
    const { issuer } = server;
    let tokens = await signIn(issuer, clientId);
    for (let trial = 0; trial < 20; trial++) {
      const racers = trial % 2 === 0 ? 2 : 3;
      const answers = await Promise.all(
        Array.from({ length: racers }, () =>
          refreshWith(issuer, clientId, tokens.body.refresh_token),
        ),
      );
      expect(errorsOf(answers), `trial ${trial}`).toEqual([]);
      // Whichever answer the client keeps (the last writer wins), it keeps working.
      const kept = answers[trial % racers] as TokenAnswer;
      for (const answer of answers) {
        const next = await refreshWith(issuer, clientId, answer.body.refresh_token);
        expect(next.status, `trial ${trial}: a racer's refresh token`).toBe(200);
        if (answer === kept) tokens = next;
      }
    }
    expect(auditLines(server, 'refresh_token_reuse')).toEqual([]);
  });

  it('answers two refreshes that are in flight at once (both arrive while the server is paused)', async () => {
    const { issuer } = server;
    const pid = server.process.child.pid as number;
    for (let trial = 0; trial < 5; trial++) {
      const tokens = await signIn(issuer, clientId);
      const answers = await arriveTogether([pid], () =>
        [0, 1].map(() => refreshWith(issuer, clientId, tokens.body.refresh_token)),
      );
      expect(errorsOf(answers), `trial ${trial}`).toEqual([]);
      for (const answer of answers)
        expect((await refreshWith(issuer, clientId, answer.body.refresh_token)).status).toBe(200);
    }
  });

  it('answers a refresh presented again after the first completed (lost answer, a slower process), and both pairs work', async () => {
    const { issuer } = server;
    const tokens = await signIn(issuer, clientId);
    const first = await refreshWith(issuer, clientId, tokens.body.refresh_token);
    expect(first.status).toBe(200);
    for (const delayMs of [0, 50, 1500]) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const again = await refreshWith(issuer, clientId, tokens.body.refresh_token);
      expect(again.status, `${delayMs} ms later`).toBe(200);
      expect(again.body.refresh_token).not.toBe(first.body.refresh_token);
      expect((await refreshWith(issuer, clientId, again.body.refresh_token)).status).toBe(200);
    }
    // The first answer's refresh token was never revoked by the retries.
    expect((await refreshWith(issuer, clientId, first.body.refresh_token)).status).toBe(200);
    const verifier = createJwtVerifier({
      issuer,
      audience: MCP_RESOURCE,
      resolveJwksUri: async () => `${issuer}/jwks`,
    });
    await expect(verifier.verify(String(first.body.access_token))).resolves.toMatchObject({
      subject: 'alice',
    });
  });

  it('gives a confidential client the same interval, authenticated as always', async () => {
    const { issuer } = server;
    const registered = await register(issuer, {
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(registered.status).toBe(201);
    const auth = {
      id: registered.body.client_id,
      secret: String(registered.body.client_secret),
    };
    const result = await authorize(issuer, { clientId: auth.id });
    const tokens = await tokenRequest(
      issuer,
      {
        grant_type: 'authorization_code',
        code: result.callback.searchParams.get('code') ?? '',
        redirect_uri: 'http://127.0.0.1:33418/callback',
        code_verifier: result.verifier,
        resource: MCP_RESOURCE,
      },
      auth,
    );
    expect(tokens.status).toBe(200);
    const answers = await Promise.all(
      [0, 1, 2].map(() => refreshWith(issuer, auth.id, tokens.body.refresh_token, {}, auth)),
    );
    expect(errorsOf(answers)).toEqual([]);
    // Within the interval, a wrong secret is still a wrong secret.
    const wrong = await refreshWith(
      issuer,
      auth.id,
      tokens.body.refresh_token,
      {},
      { ...auth, secret: 'not-the-secret' },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    // And another client cannot use it.
    const other = await refreshWith(issuer, clientId, tokens.body.refresh_token);
    expect(other.body.error).toBe('invalid_grant');
    for (const answer of answers)
      expect((await refreshWith(issuer, auth.id, answer.body.refresh_token, {}, auth)).status).toBe(
        200,
      );
  });
});

describe('a replay after the reuse interval', () => {
  let server: RunningServer;
  let clientId: string;
  beforeAll(async () => {
    server = await startAuthServer({
      AUTH_REFRESH_REUSE_INTERVAL: '1',
      AUTH_REGISTRATION_RATE_LIMIT: '1000',
    });
    clientId = (await register(server.issuer)).body.client_id;
  });
  afterAll(() => server.process.stop());

  it('revokes that family, logs one audit warning without the token, and leaves the other installation signed in', async () => {
    const { issuer } = server;
    // Two installations of one client (one client id) signed in as the same user.
    const laptop = await signIn(issuer, clientId);
    const desktop = await signIn(issuer, clientId);
    const rotated = await refreshWith(issuer, clientId, laptop.body.refresh_token);
    expect(rotated.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));

    const replay = await refreshWith(issuer, clientId, laptop.body.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // The laptop's whole family is gone, the token it rotated to included...
    expect((await refreshWith(issuer, clientId, rotated.body.refresh_token)).body.error).toBe(
      'invalid_grant',
    );
    // ...and the desktop's is not.
    expect((await refreshWith(issuer, clientId, desktop.body.refresh_token)).status).toBe(200);

    const [audit, ...more] = await awaitAuditLines(server, 'refresh_token_reuse');
    expect(more).toEqual([]);
    expect(audit).toMatchObject({
      level: 40, // warn
      clientId,
      accountId: 'alice',
      grantId: expect.any(String),
    });
    expect(Number(audit?.firstUsedSecondsAgo)).toBeGreaterThanOrEqual(1);
    const output = server.process.output();
    for (const secret of [laptop, rotated, replay].flatMap((a) => [
      a.body.refresh_token,
      a.body.access_token,
    ]))
      if (typeof secret === 'string') expect(output).not.toContain(secret);
  });

  it('revoking one installation (RFC 7009) leaves the other signed in; consent is still remembered', async () => {
    const { issuer } = server;
    const laptop = await signIn(issuer, clientId);
    // A new browser: sign-in page only, no consent page (remembered per user and client).
    const again = await authorize(issuer, { clientId });
    expect(again.pages).toHaveLength(1);
    const desktop = await exchangeCode(issuer, clientId, again);
    const revoked = await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: String(laptop.body.refresh_token),
        client_id: clientId,
      }),
    });
    expect(revoked.status).toBe(200);
    expect((await refreshWith(issuer, clientId, laptop.body.refresh_token)).body.error).toBe(
      'invalid_grant',
    );
    expect((await refreshWith(issuer, clientId, desktop.body.refresh_token)).status).toBe(200);
  });

  it('gives two authorizations in one browser session two families', async () => {
    const { issuer } = server;
    const first = await authorize(issuer, { clientId });
    const second = await authorize(issuer, { clientId, userAgent: first.userAgent });
    expect(second.pages).toEqual([]);
    const one = await exchangeCode(issuer, clientId, first);
    const two = await exchangeCode(issuer, clientId, second);
    const rotated = await refreshWith(issuer, clientId, one.body.refresh_token);
    expect(rotated.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await refreshWith(issuer, clientId, one.body.refresh_token)).status).toBe(400);
    expect((await refreshWith(issuer, clientId, two.body.refresh_token)).status).toBe(200);
  });
});

describe('offline_access without prompt=consent (the Rust SDK rmcp, Codex, Goose)', () => {
  let server: RunningServer;
  let clientId: string;
  beforeAll(async () => {
    // Refresh tokens only for offline_access: whether the scope was honoured decides the answer.
    server = await startAuthServer({
      AUTH_ALWAYS_ISSUE_REFRESH_TOKEN: 'false',
      AUTH_REGISTRATION_RATE_LIMIT: '1000',
    });
    clientId = (await register(server.issuer)).body.client_id;
  });
  afterAll(() => server.process.stop());

  it('asks the user for offline access at consent, records it, issues a refresh token, and refreshes naming it', async () => {
    const { issuer } = server;
    const result = await authorize(issuer, { clientId, scope: 'mcp:tools offline_access' });
    const consent = result.pages[1] ?? '';
    expect(consent).toContain('Stay connected');
    expect(consent).toContain('offline_access');
    const tokens = await exchangeCode(issuer, clientId, result);
    expect(tokens.status).toBe(200);
    expect(typeof tokens.body.refresh_token).toBe('string');
    // What rmcp sends on every refresh: the granted scopes plus offline_access.
    const refreshed = await refreshWith(issuer, clientId, tokens.body.refresh_token, {
      scope: `${tokens.body.scope} offline_access`,
    });
    expect(refreshed.status).toBe(200);
    expect(typeof refreshed.body.refresh_token).toBe('string');
    const named = await refreshWith(issuer, clientId, refreshed.body.refresh_token, {
      scope: 'mcp:tools',
    });
    expect(named.status).toBe(200);
    // A scope the grant does not have is still refused.
    const more = await refreshWith(issuer, clientId, named.body.refresh_token, {
      scope: 'mcp:tools mcp:admin',
    });
    expect(more.body.error).toBe('invalid_scope');
  });

  it('remembers that consent: the next authorizations are not asked again, and still get refresh tokens', async () => {
    const { issuer } = server;
    const first = await authorize(issuer, { clientId, scope: 'mcp:tools offline_access' });
    expect(first.pages.length).toBeGreaterThanOrEqual(1);
    // Same browser session: straight back to the client.
    const same = await authorize(issuer, {
      clientId,
      scope: 'mcp:tools offline_access',
      userAgent: first.userAgent,
    });
    expect(same.pages).toEqual([]);
    // A new browser: the sign-in page only.
    const fresh = await authorize(issuer, { clientId, scope: 'mcp:tools offline_access' });
    expect(fresh.pages).toHaveLength(1);
    expect(fresh.pages[0]).toContain('name="password"');
    for (const result of [same, fresh]) {
      const tokens = await exchangeCode(issuer, clientId, result);
      expect(typeof tokens.body.refresh_token).toBe('string');
    }
  });

  it('issues no refresh token when offline_access is not asked for (AUTH_ALWAYS_ISSUE_REFRESH_TOKEN=false)', async () => {
    const tokens = await signIn(server.issuer, clientId, 'mcp:tools');
    expect(tokens.body.refresh_token).toBeUndefined();
  });

  it("shows the consent page when the client itself sends prompt=consent, listing what it gets, and ignores a client's marker", async () => {
    const { issuer } = server;
    const ua = new UserAgent();
    await authorize(issuer, { clientId, scope: 'mcp:tools offline_access', userAgent: ua });
    const url = new URL(`${issuer}/auth`);
    for (const [key, value] of Object.entries({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:33418/callback',
      scope: 'mcp:tools offline_access',
      prompt: 'consent',
      gatehouse_offline_consent: '1',
      resource: MCP_RESOURCE,
      state: 'abc',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(key, value);
    const page = await ua.navigate(url.href, () => false);
    expect(page.body).toContain('Allow access?');
    expect(page.body).toContain('Use the tools of this MCP server');
    expect(page.body).toContain('Stay connected');
  });
});
