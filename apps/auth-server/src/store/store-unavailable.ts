/**
 * The store could not carry out an operation right now: Redis answered an error (OOM under
 * maxmemory with noeviction, READONLY replica, NOPERM), a command timed out, or the connection
 * dropped while a command was in flight; or SQLite failed for where the database lives (locked by
 * another process, disk full, read-only, I/O error: sqlite-call.ts). Nothing is known to be wrong
 * with the request itself, so it is answered 503 temporarily_unavailable with Retry-After
 * (http/store-unavailable.ts), as while the store is unreachable, rather than 500.
 *
 * Only the store's own words are kept, as `reason`: the client library's error also carries the
 * command and its arguments, and keys hold token, code and session ids, so it is deliberately not
 * kept as `cause`, where a logger could serialise it.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /**
   * Why the store refused, safe to log (e.g. "OOM command not allowed when used memory > ...",
   * "SQLITE_BUSY (database is locked)").
   */
  readonly reason: string;

  constructor(reason: string) {
    super(`store unavailable: ${reason}`);
    this.reason = reason;
  }
}
