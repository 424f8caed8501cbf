import { destination as fileDestination, type Logger, pino } from 'pino';
import { createLogger } from './index.js';

/** Where an app's audit lines go: with its other logs on stdout, a file of their own, or nowhere. */
export type AuditLogDestination = 'stdout' | 'off' | { readonly file: string };

/**
 * An audit log stream: a logger of its own, at `info` whatever LOG_LEVEL says (an operator who
 * quiets the logs keeps the trail), every line tagged `stream: audit`; `undefined` when off.
 */
export function createAuditLogger(options: {
  readonly service: string;
  readonly format: 'json' | 'pretty';
  readonly destination: AuditLogDestination;
}): Logger | undefined {
  const { destination } = options;
  if (destination === 'off') return undefined;
  if (destination === 'stdout' && options.format === 'pretty')
    return createLogger({ service: options.service, level: 'info', format: 'pretty' }).child({
      stream: 'audit',
    });
  // Without the app loggers' redaction and field bounding: audit events carry ids and short
  // details only, bounded where they are made, and every request writes one (half the cost).
  return pino(
    { level: 'info', base: { service: options.service, stream: 'audit' } },
    // pino's own writer (sonic-boom): on stdout synchronous like the app's logger (two async
    // writers on one pipe could interleave within a line), to a file asynchronous and written
    // 4 kB at a time: a write per line (a system call on the thread pool) cost more than the line.
    destination === 'stdout'
      ? fileDestination({ dest: 1, sync: true })
      : fileDestination({ dest: destination.file, append: true, sync: false, minLength: 4096 }),
  );
}

/** An audit log destination from an environment value: `stdout`, `off`, or a file path. */
export function auditLogDestination(value: string): AuditLogDestination {
  return value === 'stdout' || value === 'off' ? value : { file: value };
}
