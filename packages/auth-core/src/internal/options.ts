import type { z } from 'zod';
import { ConfigurationError } from '../errors.js';

/** Validates factory options once, when the factory runs; the error names each bad option. */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const problems = result.error.issues
    .map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`)
    .join('; ');
  throw new ConfigurationError(`${what} options are invalid: ${problems}`);
}
