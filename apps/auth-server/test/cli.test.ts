import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJwtVerifier } from '@gatehouse/auth-core';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { FederatedAccounts } from '../src/accounts/federated-accounts.js';
import { openStore } from '../src/store/open-store.js';
import { type RunResult, runApp } from './support/run.js';
import {
  authorize,
  exchangeCode,
  MCP_RESOURCE,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

// Not spawnSync: between HTTP requests to a running server it would stop the event loop for
// seconds on a busy machine, and the next request would go out on a kept-alive connection the
// server had closed meanwhile ("other side closed").
const cli = (
  dbPath: string,
  args: string[],
  extra: { env?: Record<string, string>; input?: string } = {},
): Promise<RunResult> =>
  runApp('src/cli.ts', args, {
    env: { AUTH_STORE: `sqlite:${dbPath}`, ...extra.env },
    input: extra.input ?? '',
  });

/** The exit status, with stderr as the failure message when it is not the expected one. */
const expectStatus = (result: RunResult, status: number) =>
  expect(result.status, `signal ${result.signal}, stderr:\n${result.stderr}`).toBe(status);

// Each test starts servers and runs CLI processes one after another: seconds each on a busy
// machine, so more than the suite's default timeout.
const SLOW = 120_000;

describe('cli', () => {
  it(
    'adds, lists and removes users; the new user can sign in',
    async () => {
      const dbPath = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-')), 'auth.db');
      expect(
        (await cli(dbPath, ['users', 'add', 'carol'], { input: 'carol-password\n' })).stdout,
      ).toContain('user carol saved');
      expectStatus(
        await cli(dbPath, ['users', 'add', 'dave'], { env: { GATEHOUSE_PASSWORD: 'short' } }),
        1,
      );
      const server = await startAuthServer({ AUTH_USERS: '' }, dbPath);
      try {
        const clientId = (await register(server.issuer)).body.client_id;
        const result = await authorize(server.issuer, {
          clientId,
          username: 'carol',
          password: 'carol-password',
        });
        expect(result.callback.searchParams.get('code')).toBeTruthy();
      } finally {
        await server.process.stop();
      }
      expect((await cli(dbPath, ['users', 'list'])).stdout).toContain('carol');
      expect((await cli(dbPath, ['users', 'remove', 'carol'])).stdout).toContain('removed');
      expect((await cli(dbPath, ['users', 'list'])).stdout).not.toContain('carol');
    },
    SLOW,
  );

  it(
    'rotates keys: new tokens are signed with the new key, old tokens still verify',
    async () => {
      const first = await startAuthServer();
      const { issuer, dbPath } = first;
      const clientId = (await register(issuer)).body.client_id;
      const before = await exchangeCode(issuer, clientId, await authorize(issuer, { clientId }));
      const oldKid = decodeProtectedHeader(String(before.body.access_token)).kid;
      await first.process.stop();

      expectStatus(await cli(dbPath, ['keys', 'rotate']), 0);
      const listed = (await cli(dbPath, ['keys', 'list'])).stdout;
      expect(listed).toContain(`${oldKid}\tRS256\tretired`);

      const second = await startAuthServer({}, dbPath, Number(new URL(issuer).port));
      try {
        const after = await tokenRequest(issuer, {
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: String(before.body.refresh_token),
          resource: MCP_RESOURCE,
        });
        const newKid = decodeProtectedHeader(String(after.body.access_token)).kid;
        expect(newKid).not.toBe(oldKid);
        const verifier = createJwtVerifier({
          issuer,
          audience: MCP_RESOURCE,
          jwksUri: `${issuer}/jwks`,
        });
        await expect(verifier.verify(String(after.body.access_token))).resolves.toBeDefined();
        await expect(verifier.verify(String(before.body.access_token))).resolves.toBeDefined();
      } finally {
        await second.process.stop();
      }
    },
    SLOW,
  );

  it(
    'lists and deletes clients, and revokes grants with their tokens',
    async () => {
      const server = await startAuthServer();
      try {
        const clientId = (await register(server.issuer, { client_name: 'CLI Listed' })).body
          .client_id;
        const tokens = await exchangeCode(
          server.issuer,
          clientId,
          await authorize(server.issuer, { clientId }),
        );
        expect((await cli(server.dbPath, ['clients', 'list'])).stdout).toContain('CLI Listed');
        const grants = (await cli(server.dbPath, ['grants', 'list'])).stdout.trim().split('\n');
        const grantId = grants.find((line) => line.includes(clientId))?.split('\t')[0] ?? '';
        expectStatus(await cli(server.dbPath, ['grants', 'revoke', grantId]), 0);
        const refresh = await tokenRequest(server.issuer, {
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: String(tokens.body.refresh_token),
        });
        expect(refresh.body.error).toBe('invalid_grant');
        expectStatus(await cli(server.dbPath, ['clients', 'delete', clientId]), 0);
        expect((await cli(server.dbPath, ['clients', 'list'])).stdout).not.toContain('CLI Listed');
      } finally {
        await server.process.stop();
      }
    },
    SLOW,
  );

  it(
    'lists federated accounts with their upstream, and removes one with its grants and tokens',
    async () => {
      const dbPath = join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-')), 'auth.db');
      const store = await openStore({ kind: 'sqlite', path: dbPath });
      try {
        const accounts = new FederatedAccounts(store);
        const { accountId } = await accounts.signedIn('corp', {
          subject: '4f1c2b7e-aaaa-4bbb-8ccc-1234567890ab',
          username: 'alice',
          email: 'alice@example.test',
          emailVerified: true,
          name: undefined,
          groups: ['mcp-admins'],
        });
        await store.models.upsert('Grant', 'grant-1', { accountId, clientId: 'c1' }, 3600);
        await store.models.upsert('RefreshToken', 'rt-1', { accountId, grantId: 'grant-1' }, 3600);
        await store.models.upsert('Grant', 'grant-2', { accountId: 'bob', clientId: 'c1' }, 3600);
      } finally {
        await store.close();
      }
      const listed = await cli(dbPath, ['accounts', 'list']);
      expectStatus(listed, 0);
      expect(listed.stdout).toMatch(
        /^corp:4f1c2b7e-aaaa-4bbb-8ccc-1234567890ab\tcorp\talice\talice@example\.test\t\d{4}-/,
      );
      expectStatus(await cli(dbPath, ['accounts', 'remove', 'corp:nobody']), 1);
      const removed = await cli(dbPath, [
        'accounts',
        'remove',
        'corp:4f1c2b7e-aaaa-4bbb-8ccc-1234567890ab',
      ]);
      expectStatus(removed, 0);
      expect(removed.stdout).toContain('removed, with its grants and tokens');
      expect((await cli(dbPath, ['accounts', 'list'])).stdout).toBe('');
      const after = await openStore({ kind: 'sqlite', path: dbPath });
      try {
        expect(await after.models.find('Grant', 'grant-1')).toBeUndefined();
        expect(await after.models.find('RefreshToken', 'rt-1')).toBeUndefined();
        // Another account's grant stays.
        expect(await after.models.find('Grant', 'grant-2')).toBeDefined();
      } finally {
        await after.close();
      }
    },
    SLOW,
  );

  it('prints usage for an unknown command', async () => {
    const result = await cli(join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-')), 'auth.db'), [
      'nope',
    ]);
    expectStatus(result, 2);
    expect(result.stderr).toContain('usage:');
  });
});
