/**
 * A small side-by-side benchmark harness. Cases run interleaved in rounds (a, b, c, a, b, c, ...)
 * so that noise from other tenants of a shared machine hits every case alike; each operation is
 * timed on its own, and the report gives throughput, p50 and p99 per case and ratios between cases.
 */

export interface BenchCase {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

export interface BenchResult {
  readonly name: string;
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

export interface BenchOptions {
  readonly rounds: number;
  /** Wall time per case per round. */
  readonly roundMs: number;
  readonly warmupMs: number;
}

async function runFor(fn: () => Promise<unknown>, ms: number, samples?: number[]): Promise<number> {
  const end = performance.now() + ms;
  let total = 0;
  while (performance.now() < end) {
    const start = process.hrtime.bigint();
    await fn();
    const elapsed = Number(process.hrtime.bigint() - start);
    samples?.push(elapsed);
    total += elapsed;
  }
  return total;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function bench(
  cases: readonly BenchCase[],
  options: BenchOptions,
): Promise<BenchResult[]> {
  for (const c of cases) await runFor(c.run, options.warmupMs);
  const samples = cases.map(() => [] as number[]);
  const busyNs = cases.map(() => 0);
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, c] of cases.entries()) {
      busyNs[i] = (busyNs[i] ?? 0) + (await runFor(c.run, options.roundMs, samples[i]));
    }
  }
  return cases.map((c, i) => {
    const sorted = (samples[i] ?? []).sort((x, y) => x - y);
    return {
      name: c.name,
      ops: sorted.length,
      opsPerSec: sorted.length / ((busyNs[i] ?? 1) / 1e9),
      p50Us: percentile(sorted, 50) / 1000,
      p99Us: percentile(sorted, 99) / 1000,
    };
  });
}

export function markdownTable(results: readonly BenchResult[], baseline: string): string {
  const base = results.find((r) => r.name === baseline);
  const rows = results.map((r) => {
    const ratio = base ? (r.opsPerSec / base.opsPerSec).toFixed(2) : '';
    return `| ${r.name} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.p50Us.toFixed(1)} | ${r.p99Us.toFixed(1)} | ${ratio}x | ${r.ops.toLocaleString('en-US')} |`;
  });
  return [
    `| case | validations/s | p50 (µs) | p99 (µs) | throughput vs ${baseline} | samples |`,
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
