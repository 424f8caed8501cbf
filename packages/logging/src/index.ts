import pino, { type DestinationStream, type Logger } from 'pino';
import { boundFields } from './bounded.js';

/**
 * pino JSON logs, pretty on a terminal when pino-pretty is installed, every field bounded
 * (bounded.ts). Every place a credential could appear is redacted, in case a log call ever passes
 * one by mistake; the apps never log tokens, codes, secrets, passwords or cookies on purpose.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'code',
  '*.code',
  'client_secret',
  '*.client_secret',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  readonly service: string;
  readonly level: string;
  readonly format: 'json' | 'pretty';
  /** Where JSON lines go (default stdout), e.g. a stream a test reads. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: options.service },
    formatters: { log: boundFields },
  };
  if (options.format === 'pretty') {
    try {
      return pino({
        ...base,
        transport: {
          target: 'pino-pretty',
          options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
        },
      });
    } catch {
      // pino-pretty is optional; logs stay JSON without it.
    }
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}

export type { Logger } from 'pino';
export {
  type AuditLogDestination,
  type AuditStream,
  auditLogDestination,
  createAuditStream,
} from './audit.js';
export { boundFields, MAX_FIELD_LENGTH } from './bounded.js';
