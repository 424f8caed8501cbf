import type { IncomingMessage } from 'node:http';

/**
 * Why a request failed, recorded where the failure is handled and logged once by the access log
 * (request-log.ts), which writes every 5xx at error level with this reason and the request id.
 * Keyed by the Node request, because oidc-provider answers with its own koa context around the
 * same `IncomingMessage`.
 */
export interface RequestFailure {
  /** Short, safe description: no token, code, secret, password, cookie or request body. */
  readonly reason: string;
  /** An error's name and stack, for server faults. */
  readonly name?: string | undefined;
  readonly stack?: string | undefined;
}

const failures = new WeakMap<IncomingMessage, RequestFailure>();

/** Records why `req` failed; the first record wins (it is the closest to the cause). */
export function recordFailure(req: IncomingMessage, failure: RequestFailure): void {
  if (!failures.has(req)) failures.set(req, failure);
}

/** The recorded failure of `req`, if any. */
export function failureOf(req: IncomingMessage): RequestFailure | undefined {
  return failures.get(req);
}

/** A server fault from a thrown value: its message, name and stack. */
export function faultOf(error: unknown): RequestFailure {
  if (error instanceof Error)
    return { reason: error.message || error.name, name: error.name, stack: error.stack };
  return { reason: `non-error thrown: ${typeof error}` };
}

/**
 * The client's connection broke or its bytes were not HTTP (Node's parser: `HPE_*`): reported by
 * koa through the response's end (on-finished) after an answer may already be on its way.
 */
export function isClientConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code.startsWith('HPE_') ||
      ['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code))
  );
}

/**
 * The HTTP status of a thrown error, for the log: koa's own rule (a valid `status`, else 500),
 * except that a broken client connection is the client's doing (400).
 */
export function statusOfThrown(error: unknown): number {
  if (isClientConnectionError(error)) return 400;
  const status =
    (error as { status?: unknown; statusCode?: unknown } | null)?.status ??
    (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}
