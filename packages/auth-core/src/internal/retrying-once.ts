/**
 * Memoises an async initialiser: concurrent callers share one attempt, a success is kept forever,
 * and after a failure callers get that failure until a backoff passes (1 s, doubling per failure up
 * to `maxBackoffMs`), so a dead dependency is not hammered per request, yet one that was merely
 * starting (both servers launched together) is picked up within a second or two.
 */
export function retryingOnce<T>(
  init: () => Promise<T>,
  maxBackoffMs: number,
  now: () => number,
): () => Promise<T> {
  let value: { readonly ok: T } | undefined;
  let pending: Promise<T> | undefined;
  let failure: { readonly error: unknown; readonly retryAt: number } | undefined;
  let failures = 0;
  return () => {
    if (value) return Promise.resolve(value.ok);
    if (pending) return pending;
    if (failure && now() < failure.retryAt) return Promise.reject(failure.error);
    pending = init().then(
      (ok) => {
        value = { ok };
        failure = undefined;
        pending = undefined;
        return ok;
      },
      (error: unknown) => {
        failures += 1;
        failure = { error, retryAt: now() + Math.min(maxBackoffMs, 1000 * 2 ** (failures - 1)) };
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}
