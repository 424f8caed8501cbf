import { createLogger, type Logger } from '@gatehouse/logging';
import { ConfigError } from './env.js';
import { routeProcessOutput } from './process-output.js';

export interface RunServerOptions<
  C extends {
    readonly port: number;
    readonly bind: string;
    readonly log: { readonly level: string; readonly format: 'json' | 'pretty' };
  },
> {
  readonly service: string;
  readonly loadConfig: () => C;
  /** The variable to name when the port is taken, e.g. `AUTH_PORT`. */
  readonly portVariable: string;
  /** Builds the app and listens; resolves with what closes it. */
  readonly start: (config: C, logger: Logger) => Promise<{ close(): Promise<void> }>;
}

/**
 * The `main` of every app: configuration (a bad one exits 1 with its message, not a stack trace),
 * logger, start, a taken port reported as such, and a clean stop on SIGINT/SIGTERM.
 */
export async function runServer<
  C extends {
    readonly port: number;
    readonly bind: string;
    readonly log: { readonly level: string; readonly format: 'json' | 'pretty' };
  },
>(options: RunServerOptions<C>): Promise<void> {
  let config: C;
  try {
    config = options.loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ service: options.service, ...config.log });
  routeProcessOutput(logger);
  let running: { close(): Promise<void> };
  try {
    running = await options.start(config, logger);
  } catch (error) {
    // Configuration only the running app can check (e.g. against a library's own rules).
    if (error instanceof ConfigError) {
      logger.fatal(error.message);
      process.exit(1);
    }
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      logger.fatal(
        `port ${config.port} on ${config.bind} is already in use; stop the other process or set ${options.portVariable}`,
      );
      process.exit(1);
    }
    throw error;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
