import type { z } from 'zod';

/** A bad environment: `main` prints the message (it names each variable and the fix) and exits 1. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Throws a {@link ConfigError} for one problem, e.g. `configProblem('MCP_RESOURCE: must be https')`. */
export function configProblem(line: string): never {
  throw new ConfigError(`Invalid configuration:\n- ${line}`);
}

/** Parses the environment with `schema`; every issue becomes one "- VARIABLE: message" line. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '');
    return issue.message.startsWith(variable)
      ? `- ${issue.message}`
      : `- ${variable}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
