/**
 * Memoises an async initialiser: concurrent callers share one attempt, a success is kept forever,
 * and a failure is remembered for `retryAfterMs` so a dead dependency is not hammered per request.
 */
export function retryingOnce<T>(
  init: () => Promise<T>,
  retryAfterMs: number,
  now: () => number,
): () => Promise<T> {
  let value: { readonly ok: T } | undefined;
  let pending: Promise<T> | undefined;
  let failure: { readonly error: unknown; readonly at: number } | undefined;
  return () => {
    if (value) return Promise.resolve(value.ok);
    if (pending) return pending;
    if (failure && now() - failure.at < retryAfterMs) return Promise.reject(failure.error);
    pending = init().then(
      (ok) => {
        value = { ok };
        failure = undefined;
        pending = undefined;
        return ok;
      },
      (error: unknown) => {
        failure = { error, at: now() };
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}
