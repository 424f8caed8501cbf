/** Order statistics for small samples (the same nearest-rank percentile as the other benches). */

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  /** Nearest rank: with fewer than 100 samples this is the maximum. */
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    min: values.length ? Math.min(...values) : Number.NaN,
    median: median(values),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : Number.NaN,
    mean: values.length ? values.reduce((sum, v) => sum + v, 0) / values.length : Number.NaN,
  };
}

/** `a / b`, e.g. Keycloak / auth-server: above 1 means Keycloak takes more. */
export function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}
