import type { Context } from 'koa';

/** Answers with an OAuth-style JSON error (never cached), with Retry-After when `retryAfterMs` is given. */
export function sendOAuthError(
  ctx: Context,
  status: number,
  error: string,
  description: string,
  retryAfterMs?: number,
): void {
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  if (retryAfterMs !== undefined) ctx.set('retry-after', String(Math.ceil(retryAfterMs / 1000)));
  ctx.body = { error, error_description: description };
}
