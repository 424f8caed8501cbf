import type { AuditEvent } from '@gatehouse/audit';
import { waitForOutput } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, runApp } from './support/run.js';
import {
  authorize,
  exchangeCode,
  OTHER_RESOURCE,
  type RunningServer,
  refreshRequest,
  register,
  startAuthServer,
} from './support/server.js';

/**
 * The audit trail of a real server: what a sign-in, a consent, tokens, a refresh, a replayed
 * refresh token and a revocation leave in the store and on the audit stream, and how `cli audit`
 * answers "who did what" and "did this client ever try to refresh?". Nothing secret in any of it.
 */

const cli = (server: RunningServer, args: string[], env: Record<string, string> = {}) =>
  runApp('src/cli.ts', args, { env: { AUTH_STORE: `sqlite:${server.dbPath}`, ...env } });

async function auditJson(server: RunningServer, args: string[] = []): Promise<AuditEvent[]> {
  const result: RunResult = await cli(server, ['audit', '--json', ...args]);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as AuditEvent[];
}

let server: RunningServer;
let quiet: RunningServer;
beforeAll(async () => {
  // A replayed refresh token is reuse at once (no grace interval).
  [server, quiet] = await Promise.all([
    startAuthServer({ AUTH_REFRESH_REUSE_INTERVAL: '0' }),
    startAuthServer({ AUTH_REFRESH_REUSE_INTERVAL: '0', AUTH_AUDIT: 'false' }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.process.stop(), quiet?.process.stop()]);
});

/** A sign-in with a wrong password, a good one, tokens, a refresh, the old refresh token again. */
async function eventfulSession(on: RunningServer) {
  const clientId = (await register(on.issuer, { client_name: 'Audited client' })).body.client_id;
  const wrong = await authorize(on.issuer, { clientId, password: 'not-the-password' }).catch(
    (error: Error) => error,
  );
  expect(wrong).toBeInstanceOf(Error);
  const tokens = await exchangeCode(on.issuer, clientId, await authorize(on.issuer, { clientId }));
  expect(tokens.status).toBe(200);
  const refreshed = await refreshRequest(on.issuer, clientId, tokens.body.refresh_token);
  expect(refreshed.status).toBe(200);
  const replayed = await refreshRequest(on.issuer, clientId, tokens.body.refresh_token);
  expect(replayed.status).toBe(400);
  // An opaque access token, revoked.
  const opaque = await authorize(on.issuer, {
    clientId,
    resource: OTHER_RESOURCE,
    scope: 'api:read',
  });
  const opaqueTokens = await exchangeCode(on.issuer, clientId, opaque, {
    resource: OTHER_RESOURCE,
  });
  const revoked = await fetch(`${on.issuer}/token/revocation`, {
    method: 'POST',
    body: new URLSearchParams({
      token: String(opaqueTokens.body.access_token),
      client_id: clientId,
    }),
  });
  expect(revoked.status).toBe(200);
  return { clientId, secrets: [tokens.body, refreshed.body, opaqueTokens.body] };
}

describe('the audit trail', () => {
  it('records sign-ins, consent, registration, tokens, refreshes, reuse and revocation, and cli audit finds them', async () => {
    const started = Date.now();
    const { clientId, secrets } = await eventfulSession(server);
    const events = (await auditJson(server)).filter((event) => event.at >= started - 1000);
    const ofClient = events.filter((event) => event.client === clientId);
    // (The headless browser retries the wrong password on each sign-in page it gets: one or more.)
    const sequence = ofClient
      .map((event) => `${event.type}:${event.outcome}`)
      .filter((entry, index, all) => entry !== all[index - 1]);
    expect(sequence).toEqual([
      'client_registered:success',
      'sign_in:failure',
      'sign_in:success',
      'consent:success',
      'token_issued:success',
      'token_refreshed:success',
      'credential_reuse:success',
      'token_refreshed:failure',
      // The next authorization is another browser: it signs in again.
      'sign_in:success',
      'consent:success',
      'token_issued:success',
      'token_revoked:success',
    ]);
    const [registered, failedSignIn] = ofClient;
    expect(registered?.detail).toMatchObject({ via: 'dcr', redirect_hosts: '127.0.0.1:33418' });
    expect(failedSignIn).toMatchObject({
      actor: 'alice',
      detail: { reason: 'wrong username or password' },
    });
    const issued = ofClient.find((event) => event.type === 'token_issued');
    expect(issued).toMatchObject({
      actor: 'alice',
      resource: 'http://localhost:3000/mcp',
      grant: expect.any(String),
      requestId: expect.stringMatching(/^[\w-]+$/),
      detail: { grant_type: 'authorization_code', scope: 'mcp:tools' },
    });
    expect(ofClient.find((event) => event.type === 'credential_reuse')).toMatchObject({
      grant: issued?.grant,
      detail: { reason: 'refresh_token_reuse' },
    });

    // "Did this client ever try to refresh?": yes, once fine and once with a replayed token.
    const refreshes = await auditJson(server, ['--client', clientId, '--type', 'token_refreshed']);
    expect(refreshes.map((event) => event.outcome)).toEqual(['success', 'failure']);
    expect(refreshes[1]?.detail).toMatchObject({ error: 'invalid_grant' });
    expect((await auditJson(server, ['--user', 'alice', '--since', '10m'])).length).toBeGreaterThan(
      4,
    );
    expect(await auditJson(server, ['--user', 'alice', '--until', '2020-01-01'])).toEqual([]);
    const text = await cli(server, ['audit', '--grant', issued?.grant ?? '']);
    expect(text.stdout.split('\n')[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z\ttoken_issued\tsuccess\tactor=alice/,
    );
    expect((await cli(server, ['audit', '--type', 'nonsense'])).stderr).toContain(
      '--type nonsense is not one of',
    );

    // Per grant: last tokens issued and last refresh.
    const grants = (await cli(server, ['grants', 'list'])).stdout;
    expect(grants).toMatch(/\tissued \d{4}-[\d-]+T[\d:.]+Z\trefreshed -/);

    // The audit stream on stdout, and nothing secret anywhere.
    const auditLines = () =>
      server.process
        .output()
        .split('\n')
        .filter((line) => line.includes('"stream":"audit"'));
    // The answers can arrive before the server's last log lines are read from its pipe.
    await waitForOutput(server.process, () => auditLines().length >= ofClient.length);
    expect(auditLines().length).toBeGreaterThanOrEqual(ofClient.length);
    const output = server.process.output();
    const everything = output + JSON.stringify(events) + grants;
    for (const secret of ['alice-password', 'not-the-password'])
      expect(everything).not.toContain(secret);
    for (const body of secrets) {
      for (const name of ['access_token', 'refresh_token', 'id_token'] as const) {
        const value = body[name];
        if (typeof value === 'string') expect(everything).not.toContain(value);
      }
    }
  });

  it('records what operators do with the CLI, with the operator as actor', async () => {
    const added = await cli(server, ['users', 'add', 'dora'], {
      GATEHOUSE_PASSWORD: 'dora-password',
    });
    expect(added.status, added.stderr).toBe(0);
    await cli(server, ['keys', 'rotate']);
    const actions = await auditJson(server, [
      '--type',
      'admin_action,key_rotation',
      '--since',
      '10m',
    ]);
    expect(actions.map((event) => [event.type, event.detail?.action ?? ''])).toEqual([
      ['admin_action', 'users add'],
      ['key_rotation', ''],
    ]);
    expect(actions[0]).toMatchObject({
      actor: expect.stringMatching(/^cli:/),
      detail: { target: 'dora' },
    });
    expect(JSON.stringify(actions)).not.toContain('dora-password');
  });

  it('records nothing with AUTH_AUDIT=false', async () => {
    await eventfulSession(quiet);
    expect(await auditJson(quiet, [])).toEqual([]);
    expect(quiet.process.output()).not.toContain('"stream":"audit"');
  });
});
