import { destination as pinoDestination } from 'pino';
import { createLogger } from './index.js';

/** Where an app's audit lines go: with its other logs on stdout, a file of their own, or nowhere. */
export type AuditLogDestination = 'stdout' | 'off' | { readonly file: string };

/**
 * An audit log stream: one JSON line per event, shaped like the apps' pino lines
 * (`{"level":30,"time":…,"service":…,"stream":"audit","audit":{…},"msg":…}`), at `info` whatever
 * LOG_LEVEL says (an operator who quiets the logs keeps the trail).
 */
export interface AuditStream {
  /** `event` carries ids and short details only, bounded by its maker; never a credential. */
  write(event: object, message: string): void;
  /** Writes what is buffered now (synchronously on stdout; handed to the file writer otherwise). */
  flush(): void;
}

/** How long a line may wait in the buffer, and how much may wait. */
const FLUSH_MS = 100;
const FLUSH_BYTES = 64 * 1024;

/**
 * The audit stream for a destination; `undefined` when off. Every request that audits writes a
 * line (each refresh, each tool call), so lines are serialized here, not by pino (its per-line
 * machinery cost more than the line: bench/src/audit-cost.ts), and written in batches every
 * FLUSH_MS: one system call for many lines. On stdout the batch is written synchronously, so it
 * never interleaves with the app logger's own synchronous lines; a file gets pino's asynchronous
 * writer (sonic-boom). What is buffered is written when the process exits.
 */
export function createAuditStream(options: {
  readonly service: string;
  readonly format: 'json' | 'pretty';
  readonly destination: AuditLogDestination;
}): AuditStream | undefined {
  const { destination } = options;
  if (destination === 'off') return undefined;
  if (destination === 'stdout' && options.format === 'pretty') {
    // A developer's terminal: readability over cost.
    const logger = createLogger({
      service: options.service,
      level: 'info',
      format: 'pretty',
    }).child({ stream: 'audit' });
    return { write: (audit, message) => logger.info({ audit }, message), flush: () => {} };
  }
  const out =
    destination === 'stdout'
      ? pinoDestination({ dest: 1, sync: true })
      : pinoDestination({ dest: destination.file, append: true, sync: false, mkdir: true });
  const head = `{"level":30,"time":`;
  const service = `,"service":${JSON.stringify(options.service)},"stream":"audit","audit":`;
  let buffered = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (buffered === '') return;
    const chunk = buffered;
    buffered = '';
    out.write(chunk);
  };
  process.once('exit', () => {
    flush();
    if (destination !== 'stdout') out.flushSync();
  });
  return {
    write(event, message) {
      buffered += `${head}${Date.now()}${service}${JSON.stringify(event)},"msg":${JSON.stringify(message)}}\n`;
      if (buffered.length >= FLUSH_BYTES) flush();
      else timer ??= setTimeout(flush, FLUSH_MS).unref();
    },
    flush,
  };
}

/** An audit log destination from an environment value: `stdout`, `off`, or a file path. */
export function auditLogDestination(value: string): AuditLogDestination {
  return value === 'stdout' || value === 'off' ? value : { file: value };
}
