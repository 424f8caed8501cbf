import { format } from 'node:util';
import type { Logger } from '@gatehouse/logging';

/**
 * What libraries print goes through the logger, so that every line an app writes is one bounded
 * JSON line: oidc-provider prints its notices with console.info/console.warn, and Node prints
 * process warnings (deprecations a hostile request can trigger) straight to stderr. Applied once by
 * runServer, after the configuration is read (a configuration error is still printed as is).
 */
/** Messages are bounded like fields (a warning can quote a request's URL). */
const MAX_MESSAGE = 1024;
const bounded = (text: string) =>
  text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}…(${text.length} chars)`;

export function routeProcessOutput(logger: Logger): void {
  const to =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      logger[level]({ source: 'console' }, bounded(format(...args)));
  console.log = to('info');
  console.info = to('info');
  console.debug = to('debug');
  console.warn = to('warn');
  console.error = to('error');
  // Node's own printer of process warnings is a 'warning' listener; this one replaces it.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    logger.warn(
      {
        source: 'process',
        name: warning.name,
        code: (warning as Error & { code?: string }).code,
      },
      bounded(warning.message),
    );
  });
}
