import Database from 'better-sqlite3';
import { StoreUnavailableError } from './store-unavailable.js';

/**
 * SQLite's primary result codes for failures of where the database lives rather than of the
 * request or the code, each with SQLite's own wording: the file is locked by another process past
 * busy_timeout, the disk is full, the file is read-only, unreadable or damaged, an I/O call failed,
 * memory ran out. Extended codes count as their primary one (SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT,
 * SQLITE_READONLY_DBMOVED). Anything else (SQLITE_CONSTRAINT, SQLITE_ERROR from bad SQL,
 * SQLITE_MISMATCH, SQLITE_RANGE, ...) is a bug or a bad value and stays a real error.
 */
const OPERATIONAL = new Map([
  ['SQLITE_BUSY', 'database is locked'],
  ['SQLITE_LOCKED', 'database table is locked'],
  ['SQLITE_NOMEM', 'out of memory'],
  ['SQLITE_READONLY', 'attempt to write a readonly database'],
  ['SQLITE_IOERR', 'disk I/O error'],
  ['SQLITE_CORRUPT', 'database disk image is malformed'],
  ['SQLITE_FULL', 'database or disk is full'],
  ['SQLITE_CANTOPEN', 'unable to open database file'],
  ['SQLITE_PROTOCOL', 'locking protocol'],
  ['SQLITE_NOTADB', 'file is not a database'],
]);

/**
 * Runs one better-sqlite3 call (a statement, a transaction, a pragma). A failure listed in
 * {@link OPERATIONAL} becomes a {@link StoreUnavailableError}, so the request gets a retryable 503
 * instead of a 500, as when Redis refuses a command (redis-command.ts). Its reason is the code and
 * the fixed wording above, never SQLite's message, which could in principle quote a value. Every
 * database call of the SQLite store goes through here.
 */
export function sqliteCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (!(error instanceof Database.SqliteError)) throw error;
    const meaning = OPERATIONAL.get(/^SQLITE_[A-Z]+/.exec(error.code)?.[0] ?? '');
    if (meaning === undefined) throw error;
    throw new StoreUnavailableError(`${error.code} (${meaning})`);
  }
}
