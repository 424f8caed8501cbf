/**
 * The logger an application passes in. The signature is pino's (`logger.warn(obj, msg)`), so a
 * pino logger or a child of one can be passed as is. This package never logs a token, a DPoP
 * proof or a client secret; failures are logged with their reason and a correlation id.
 */
export interface AuthLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info?(fields: Record<string, unknown>, message: string): void;
  debug?(fields: Record<string, unknown>, message: string): void;
}

/** Drops everything; the default when no logger is given. */
export const silentLogger: AuthLogger = { warn() {} };
