import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import {
  type HtmlForm,
  startAuthServerApp,
  startOnFreePort,
  UserAgent,
  waitForOutput,
} from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authServerEnv,
  REDIRECT_URI,
  type RunningServer,
  startAuthServer,
} from './support/server.js';
import {
  type Answer,
  authorizationUrl,
  expectUnavailableJson,
  expectUnavailablePage,
  prepare,
  refresh,
  registerClient,
} from './support/store-failures.js';

/**
 * The SQLite database failing under the running server, for real: another process holding the
 * write lock (SQLITE_BUSY once busy_timeout has passed) and writes beyond the server's file-size
 * limit (SQLITE_IOERR_WRITE: a full disk, with EFBIG for ENOSPC). Every request that hits such a
 * failure gets 503 temporarily_unavailable with Retry-After (a page for a browser), the log says
 * why and for which request without any credential, and nothing is lost once the database works
 * again. The server waits busy_timeout (1 s) before giving up on a lock: tests allow for it.
 *
 * What SQLite in WAL mode does not report while running is covered too: a file made read-only
 * (checked only when opened: a server started on it stops with SQLITE_READONLY) and a file moved
 * away (never noticed: /readyz says so).
 */

const SLOW = 180_000;
const started: RunningServer[] = [];
/** The server most tests use; others start their own under a limit. */
let server: RunningServer;

beforeAll(async () => {
  server = await startAuthServer();
  started.push(server);
});
afterAll(async () => {
  for (const running of started) await running.process.stop();
});

const SQLITE_DETAIL = /sqlite|locked|disk|readonly/i;
const expectUnavailable = (answer: Answer) => expectUnavailableJson(answer, SQLITE_DETAIL);

/** The sign-in form posted by a browser (Accept: text/html) with alice's right password. */
const signInAsBrowser = (ua: UserAgent, form: HtmlForm) =>
  ua.request(form.action, {
    method: 'POST',
    body: new URLSearchParams({ ...form.fields, username: 'alice', password: 'alice-password' }),
    headers: { accept: 'text/html' },
  });

/** alice consented to the client in prepare(): signing in goes straight back with a code. */
async function expectSignInCompletes(ua: UserAgent, form: HtmlForm): Promise<void> {
  const signedIn = await ua.submit(form, { username: 'alice', password: 'alice-password' }, (url) =>
    url.startsWith(REDIRECT_URI),
  );
  expect(new URL(signedIn.url).searchParams.get('code'), signedIn.body).toBeTruthy();
}

/**
 * The one error-level log line of the request `requestId`, once it is written (the answer can
 * arrive before the process's output has been read): it names the SQLite code.
 */
async function expectLoggedOnce(
  on: RunningServer,
  requestId: string,
  code: RegExp,
): Promise<Record<string, unknown>> {
  const lines = () =>
    on.process
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes(requestId))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  // The access log's line, with the status, is the request's last.
  await waitForOutput(
    on.process,
    () => lines().some((entry) => entry.status !== undefined),
    10_000,
  );
  const errors = lines().filter((entry) => entry.level === 50 || entry.level === 'error');
  expect(errors, on.process.output()).toHaveLength(1);
  const [line] = errors as [Record<string, unknown>];
  expect(line.requestId).toBe(requestId);
  expect(String(line.reason)).toMatch(code);
  return line;
}

function expectNoCredentials(on: RunningServer, secrets: readonly string[]): void {
  const output = on.process.output();
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(0);
    expect(output).not.toContain(secret);
  }
}

/**
 * A Node script that opens `dbPath` as `db` with better-sqlite3: the database's other user, in
 * another process, as the operator CLI would be.
 */
const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3');
const withDatabase = (dbPath: string, script: string) =>
  `const db = new (require(${JSON.stringify(BETTER_SQLITE3)}))(${JSON.stringify(dbPath)});
   db.pragma('busy_timeout = 10000');
   ${script}`;

/** Runs `script` against `dbPath` in another process (not blocking this one); returns its output. */
const inAnotherProcess = async (dbPath: string, script: string) =>
  (
    await promisify(execFile)(process.execPath, [
      '-e',
      withDatabase(dbPath, `${script}; db.close();`),
    ])
  ).stdout;

/** Until `fn` returns, another process holds the write lock of the server's database. */
async function whileWriteLocked(dbPath: string, fn: () => Promise<void>): Promise<void> {
  const holder = spawn(
    process.execPath,
    [
      '-e',
      withDatabase(
        dbPath,
        `db.exec('BEGIN IMMEDIATE');
         process.stdout.write('locked');
         process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); }).resume();`,
      ),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => holder.once('exit', resolve));
  const locked = await Promise.race([
    new Promise<string>((resolve) => holder.stdout.once('data', (chunk) => resolve(String(chunk)))),
    exited.then((code) => `lock holder exited with ${code}`),
  ]);
  expect(locked).toBe('locked');
  try {
    await fn();
  } finally {
    holder.stdin.end();
    expect(await exited).toBe(0);
  }
}

const readyz = async (on: RunningServer) => (await fetch(`${on.issuer}/readyz`)).status;

/** Starts the server with `prefix` (a shell command line ending in `exec`) in front of node. */
async function startWith(prefix: string, dbPath: string): Promise<RunningServer> {
  const running = await startOnFreePort(async (port) => {
    const issuer = `http://localhost:${port}`;
    const env = authServerEnv(issuer, `sqlite:${dbPath}`);
    const child = await startAuthServerApp({ port, env, shellPrefix: prefix });
    return { issuer, dbPath, process: child, env };
  });
  started.push(running);
  return running;
}

describe('auth-server when its SQLite database fails', () => {
  it(
    'answers token, registration, sign-in and authorization requests 503 temporarily_unavailable while another process holds the write lock (SQLITE_BUSY), and serves them again afterwards with nothing lost',
    async () => {
      const { clientId, refreshToken, ua, loginForm, secrets } = await prepare(server);

      await whileWriteLocked(server.dbPath, async () => {
        // Reads go on in WAL mode: the instance is still ready.
        expect(await readyz(server)).toBe(200);
        expectUnavailable(await refresh(server, clientId, refreshToken));
        expectUnavailable(await registerClient(server));
        // Our sign-in page: a right password saves the interaction's result (a write).
        expectUnavailablePage(await signInAsBrowser(ua, loginForm));
        // oidc-provider's own endpoint: a browser starting a sign-in gets the page too.
        expectUnavailablePage(
          await new UserAgent().request(authorizationUrl(server, clientId), {
            headers: { accept: 'text/html' },
          }),
        );
      });

      // The refresh token was not consumed by the failed attempt; the open sign-in goes on.
      expect((await refresh(server, clientId, refreshToken)).status).toBe(200);
      expect((await registerClient(server)).status).toBe(201);
      await expectSignInCompletes(ua, loginForm);
      expectNoCredentials(server, secrets);
    },
    SLOW,
  );

  it(
    "logs a request answered 503 for a database failure once, at error level, with SQLite's code and the request id, and no credential",
    async () => {
      const { clientId, refreshToken, secrets } = await prepare(server);
      const requestId = `sqlite-failure-${randomUUID()}`;
      await whileWriteLocked(server.dbPath, async () => {
        const answer = await refresh(server, clientId, refreshToken, requestId);
        expect(answer.status, answer.text).toBe(503);
        expect(answer.headers.get('x-request-id')).toBe(requestId);
      });
      const line = await expectLoggedOnce(server, requestId, /SQLITE_BUSY/);
      expect(line.path).toBe('/token');
      expectNoCredentials(server, secrets);
    },
    SLOW,
  );

  it(
    'answers 503 while writes fail for lack of space (beyond the file-size limit: SQLITE_IOERR_WRITE), and works again once there is room, with nothing lost',
    async () => {
      const dbPath = server.dbPath.replace(/auth\.db$/, 'full/auth.db');
      // Writes past 8192 blocks (4 or 8 MiB, by the shell's block size) fail with EFBIG; the
      // signal that would otherwise stop the process is ignored.
      const limited = await startWith(`trap '' XFSZ && ulimit -f 8192 && exec`, dbPath);
      const { clientId, refreshToken, ua, loginForm, secrets } = await prepare(limited);

      // Another process fills the write-ahead log past the limit: the server's next write would
      // land beyond it. (That process has no limit, like a disk filled by someone else.)
      await inAnotherProcess(
        dbPath,
        `db.pragma('wal_autocheckpoint = 0');
         db.exec('CREATE TABLE test_filler (b BLOB)');
         db.prepare('INSERT INTO test_filler VALUES (zeroblob(?))').run(24 * 1024 * 1024)`,
      );
      expect(statSync(`${dbPath}-wal`).size).toBeGreaterThan(16 * 1024 * 1024);
      try {
        const requestId = `disk-full-${randomUUID()}`;
        expectUnavailable(await registerClient(limited, requestId));
        expectUnavailable(await refresh(limited, clientId, refreshToken));
        expectUnavailablePage(await signInAsBrowser(ua, loginForm));
        await expectLoggedOnce(limited, requestId, /SQLITE_(FULL|IOERR)/);
      } finally {
        // Room again: the filler goes, and the log is folded into the database and emptied.
        const checkpoint = await inAnotherProcess(
          dbPath,
          `db.exec('DROP TABLE test_filler; VACUUM');
           process.stdout.write(JSON.stringify(db.pragma('wal_checkpoint(TRUNCATE)')))`,
        );
        expect(JSON.parse(checkpoint)).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
      }

      expect((await refresh(limited, clientId, refreshToken)).status).toBe(200);
      expect((await registerClient(limited)).status).toBe(201);
      await expectSignInCompletes(ua, loginForm);
      expectNoCredentials(limited, secrets);
    },
    SLOW,
  );

  it(
    'a database file made read-only: the running server writes on through the file it has open, and a server started on it exits naming SQLITE_READONLY; writable again, nothing is lost',
    async () => {
      const dbPath = server.dbPath.replace(/auth\.db$/, 'read-only/auth.db');
      const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`];
      const first = await startWith('exec', dbPath);
      const { clientId, refreshToken, secrets } = await prepare(first);
      for (const file of files) chmodSync(file, 0o444);
      // SQLite checks access when it opens the file, never again: this goes on working.
      expect((await registerClient(first)).status).toBe(201);
      await first.process.stop();
      expectNoCredentials(first, secrets);

      // Its first write (the signing-key cleanup) fails: it stops there, saying why.
      // root writes whatever the file mode says, unless it gives up the capability to.
      const asOwner =
        process.getuid?.() === 0 ? 'exec setpriv --bounding-set=-dac_override' : 'exec';
      const refused = await startWith(asOwner, dbPath).then(
        () => 'started',
        (error: Error) => error.message,
      );
      expect(refused).toMatch(/^process exited with 1 before it was ready/);
      expect(refused).toContain('store unavailable: SQLITE_READONLY');
      for (const secret of secrets) expect(refused).not.toContain(secret);

      for (const file of files) if (existsSync(file)) chmodSync(file, 0o644);
      const writable = await startWith('exec', dbPath);
      expect((await refresh(writable, clientId, refreshToken)).status).toBe(200);
      expect((await registerClient(writable)).status).toBe(201);
    },
    SLOW,
  );

  it('answers /readyz 503 while the database file is moved away from under the running server', async () => {
    expect(await readyz(server)).toBe(200);
    // SQLite (WAL) does not notice: it would go on writing to a file no longer at its path.
    renameSync(server.dbPath, `${server.dbPath}.moved`);
    try {
      expect(await readyz(server)).toBe(503);
    } finally {
      renameSync(`${server.dbPath}.moved`, server.dbPath);
    }
    expect(await readyz(server)).toBe(200);
  });
});
