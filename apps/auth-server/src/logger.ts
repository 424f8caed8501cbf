import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

/**
 * pino JSON logs (pretty in dev when pino-pretty is installed and stdout is a terminal). Every
 * place a credential could appear is redacted, in case a log call ever passes one by mistake.
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

export function createLogger(config: Config['log']): Logger {
  const options = {
    level: config.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'auth-server' },
  };
  if (config.format === 'pretty') {
    try {
      return pino({
        ...options,
        transport: {
          target: 'pino-pretty',
          options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname,service' },
        },
      });
    } catch {
      // pino-pretty is a dev dependency; production logs stay JSON.
    }
  }
  return pino(options);
}
