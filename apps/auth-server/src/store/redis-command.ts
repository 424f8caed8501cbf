import { StoreUnavailableError } from './store-unavailable.js';

/**
 * Awaits one ioredis command (or a MULTI's `exec`). Any rejection means Redis did not do what was
 * asked, whatever the connection status says: an error reply (OOM, READONLY, NOPERM, ...), a
 * timeout, or a connection lost mid-command. It becomes a {@link StoreUnavailableError}, so the
 * request gets a retryable 503 instead of a 500. Every command of the Redis store goes through here.
 */
export async function redisCommand<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (error) {
    throw new StoreUnavailableError(reasonOf(error));
  }
}

/** Redis's message, without anything that could quote a key or value. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // A MULTI with a refused command fails as "EXECABORT Transaction discarded because of previous
  // errors"; the refusal itself (e.g. OOM) is the reason worth logging.
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  const message =
    Array.isArray(previous) && previous[0] instanceof Error ? previous[0].message : error.message;
  // Some replies ("unknown command ..., with args beginning with: ...") quote arguments, which may
  // be token ids.
  return message.replace(/,? with args beginning with:.*$/s, '');
}
