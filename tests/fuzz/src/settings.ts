import { randomInt } from 'node:crypto';

/** What one run does, from the environment: `FUZZ_SEED`, `FUZZ_REQUESTS`, `FUZZ_CONCURRENCY`, `FUZZ_ONLY`. */
export interface FuzzSettings {
  /** Replays the run exactly (the same requests, in index order per worker). */
  readonly seed: number;
  readonly requests: number;
  /** Workers, each with its own keep-alive connection per app. */
  readonly concurrency: number;
  /** Only these request indices (to replay one request a summary named); else all. */
  readonly only: readonly number[] | undefined;
}

export const DEFAULT_REQUESTS = 10_000;
export const DEFAULT_CONCURRENCY = 12;

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new Error(`${name} must be a whole number, got ${raw}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new Error(`${name} must be between ${min} and ${max}`);
  return value;
}

export function readSettings(env: Readonly<Record<string, string | undefined>>): FuzzSettings {
  const seed = env.FUZZ_SEED
    ? wholeNumber('FUZZ_SEED', env.FUZZ_SEED, 0, 0xffff_ffff)
    : randomInt(0, 0xffff_ffff);
  const requests = env.FUZZ_REQUESTS
    ? wholeNumber('FUZZ_REQUESTS', env.FUZZ_REQUESTS, 1, 1_000_000)
    : DEFAULT_REQUESTS;
  const concurrency = env.FUZZ_CONCURRENCY
    ? wholeNumber('FUZZ_CONCURRENCY', env.FUZZ_CONCURRENCY, 1, 64)
    : DEFAULT_CONCURRENCY;
  const only = env.FUZZ_ONLY
    ? env.FUZZ_ONLY.split(',').map((part) => wholeNumber('FUZZ_ONLY', part, 0, 10_000_000))
    : undefined;
  return { seed, requests, concurrency, only };
}

/** The line that replays a run, printed at the start and in every failure. */
export function replayCommand(settings: Pick<FuzzSettings, 'seed' | 'requests'>): string {
  const count = settings.requests === DEFAULT_REQUESTS ? '' : ` FUZZ_REQUESTS=${settings.requests}`;
  return `FUZZ_SEED=${settings.seed}${count} pnpm --filter @gatehouse/fuzz test`;
}
