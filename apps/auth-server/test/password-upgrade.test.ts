import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// node:sqlite (built into Node) reads the server's file: the test worker loads no native addon.
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { authorize, register, startAuthServer } from './support/server.js';

// Written by the scrypt passwords.ts this replaced (N=2^15 r=8 p=1), as test/passwords.test.ts.
const SCRYPT_ALICE =
  'scrypt$32768$8$1$SO5BuCeuMxZeIQxpBe7FCA$ZK6JiI1TX1akKVnpAhG7-sOdBbOa_dHxbsvBpWfXwZk';
const SCRYPT_CAROL =
  'scrypt$32768$8$1$iNgE8mAlKmR4CnE9ozsrzQ$v7dzh1AnNcYJkQr7bEcOUIg_hlHXthWHMrp2SlWbu0w';
const OWASP_PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

/** A user's stored hash, read from the SQLite file itself (the server may be running: WAL). */
function storedHash(dbPath: string, username: string): string | undefined {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const row = db.prepare('SELECT password_hash FROM users WHERE username = ?').get(username) as
      | { password_hash: string }
      | undefined;
    return row?.password_hash;
  } finally {
    db.close();
  }
}

describe('scrypt hashes of an existing database are upgraded to argon2id', () => {
  it('at startup for configured users, at sign-in for the others, and sign-in keeps working', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'gatehouse-upgrade-')), 'auth.db');
    const before = new SqliteStore({ kind: 'sqlite', path: dbPath });
    await before.putUser('alice', SCRYPT_ALICE); // configured (AUTH_USERS), same password
    await before.putUser('carol', SCRYPT_CAROL); // added by the CLI before the upgrade
    await before.close();

    const server = await startAuthServer({}, dbPath);
    try {
      expect(storedHash(dbPath, 'alice')).toMatch(OWASP_PHC);
      expect(storedHash(dbPath, 'carol')).toBe(SCRYPT_CAROL);

      const clientId = (await register(server.issuer)).body.client_id;
      const signIn = (username: string, password: string) =>
        authorize(server.issuer, { clientId, username, password });
      const first = await signIn('carol', 'carol-password');
      expect(first.callback.searchParams.get('code')).toBeTruthy();
      const upgraded = storedHash(dbPath, 'carol');
      expect(upgraded).toMatch(OWASP_PHC);

      const again = await signIn('carol', 'carol-password');
      expect(again.callback.searchParams.get('code')).toBeTruthy();
      expect(storedHash(dbPath, 'carol')).toBe(upgraded);
      await expect(signIn('carol', 'alice-password')).rejects.toThrow(/did not reach the callback/);
      expect(
        (await signIn('alice', 'alice-password')).callback.searchParams.get('code'),
      ).toBeTruthy();
    } finally {
      await server.process.stop();
    }

    // The operator CLI writes argon2id too (through hashPassword).
    await promisify(execFile)('node', ['--import', 'tsx', 'src/cli.ts', 'users', 'add', 'dave'], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, AUTH_STORE: `sqlite:${dbPath}`, GATEHOUSE_PASSWORD: 'dave-password' },
    });
    expect(storedHash(dbPath, 'dave')).toMatch(OWASP_PHC);
  }, 120_000);
});
