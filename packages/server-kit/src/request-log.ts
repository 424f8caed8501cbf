import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { acceptableRequestId } from '@gatehouse/auth-core';
import type { Logger } from '@gatehouse/logging';
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import { failureOf, faultOf, recordFailure, statusOfThrown } from './failures.js';

/** Errors the access log has already accounted for, so koa's `error` event does not log them twice. */
const logged = new WeakSet<object>();

/**
 * A client mistake thrown by a body parser or koa (oversized or malformed body, bad charset): its
 * kind, never its message, which can quote the body (JSON parse errors do).
 */
function mistakeOf(error: unknown, status: number): string {
  const { type, code } = (error ?? {}) as { type?: unknown; code?: unknown };
  if (typeof type === 'string') return type;
  if (typeof code === 'string') return code;
  return STATUS_CODES[status] ?? 'client error';
}

/**
 * Correlation ids and access logs: a sane incoming `x-request-id` is kept, else one is made; it is
 * echoed in the response and in the log line. Only the path is logged: query strings of OAuth
 * requests carry codes and state. `quietPaths` (health checks) log at debug.
 *
 * Every request gets exactly one line. A 5xx is logged at error level with the reason its handler
 * recorded (failures.ts), or the thrown error's message and stack; a client mistake at info.
 */
export function requestLog(logger: Logger, quietPaths: readonly string[] = []) {
  const quiet = new Set(quietPaths);
  return async (ctx: Context, next: Next): Promise<void> => {
    const incoming = ctx.get('x-request-id');
    const requestId = acceptableRequestId(incoming) ?? randomUUID();
    ctx.set('x-request-id', requestId);
    ctx.state.requestId = requestId;
    const started = performance.now();
    let thrown: { error: unknown } | undefined;
    try {
      await next();
    } catch (error) {
      thrown = { error };
      if (typeof error === 'object' && error !== null) logged.add(error);
      throw error;
    } finally {
      // res.statusCode, not ctx.status: handlers that write the raw response bypass koa's status.
      // A thrown error is answered by koa after this runs, with the status it carries.
      const status = thrown && !ctx.headerSent ? statusOfThrown(thrown.error) : ctx.res.statusCode;
      if (thrown && status >= 500) recordFailure(ctx.req, faultOf(thrown.error));
      const fields = {
        requestId,
        method: ctx.method,
        path: ctx.path,
        status,
        ms: Math.round(performance.now() - started),
      };
      if (status >= 500) {
        const failure = failureOf(ctx.req) ?? { reason: 'no reason was recorded for this answer' };
        logger.error(
          {
            ...fields,
            reason: failure.reason,
            ...(failure.stack ? { err: { name: failure.name, stack: failure.stack } } : {}),
          },
          'request failed',
        );
      } else if (thrown) {
        logger.info({ ...fields, reason: mistakeOf(thrown.error, status) }, 'request refused');
      } else if (quiet.has(ctx.path)) logger.debug(fields, 'request');
      else logger.info(fields, 'request');
    }
  };
}

/**
 * koa's `error` event, for what the access log did not see (an error while streaming a response
 * that was already logged). Without a listener koa prints such errors as plain text on stderr.
 */
export function logAppErrors(app: Koa, logger: Logger): void {
  app.on('error', (error: unknown, ctx?: Context) => {
    if (typeof error === 'object' && error !== null && logged.has(error)) return;
    const status = statusOfThrown(error);
    const fields = { requestId: ctx?.state.requestId, path: ctx?.path, status };
    if (status >= 500) {
      const fault = faultOf(error);
      logger.error(
        { ...fields, reason: fault.reason, err: { name: fault.name, stack: fault.stack } },
        'request failed',
      );
    } else logger.info({ ...fields, reason: mistakeOf(error, status) }, 'request refused');
  });
}
