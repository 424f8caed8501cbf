/**
 * Side-by-side timing for the benches of every package. Cases run interleaved in rounds
 * (a, b, c, a, b, c, ...) so that noise from other tenants of a shared machine hits every case
 * alike; each operation is timed on its own, and the result gives throughput (operations per second
 * of busy time), p50 and p99 per case, and every sample in run order.
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
  /** Every operation's duration in µs, in run order. */
  readonly samplesUs: readonly number[];
}

export interface BenchOptions {
  readonly rounds: number;
  /** Wall time per case per round. */
  readonly roundMs: number;
  readonly warmupMs: number;
}

async function runFor(run: () => Promise<unknown>, ms: number, samplesUs?: number[]) {
  const end = performance.now() + ms;
  let busyNs = 0;
  while (performance.now() < end) {
    const started = process.hrtime.bigint();
    await run();
    const elapsed = Number(process.hrtime.bigint() - started);
    samplesUs?.push(elapsed / 1000);
    busyNs += elapsed;
  }
  return busyNs;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function bench(
  cases: readonly BenchCase[],
  options: BenchOptions,
): Promise<BenchResult[]> {
  for (const c of cases) await runFor(c.run, options.warmupMs);
  const runs = cases.map(() => ({ samplesUs: [] as number[], busyNs: 0 }));
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, c] of cases.entries()) {
      const run = runs[i];
      if (run) run.busyNs += await runFor(c.run, options.roundMs, run.samplesUs);
    }
  }
  return cases.map((c, i) => {
    const { samplesUs, busyNs } = runs[i] ?? { samplesUs: [], busyNs: 0 };
    const sorted = [...samplesUs].sort((x, y) => x - y);
    return {
      name: c.name,
      ops: samplesUs.length,
      opsPerSec: samplesUs.length / (busyNs / 1e9),
      p50Us: percentile(sorted, 50),
      p99Us: percentile(sorted, 99),
      samplesUs,
    };
  });
}

/** A Markdown table of results with throughput ratios against the `baseline` case. */
export function markdownTable(
  results: readonly BenchResult[],
  baseline: string,
  unit = 'operations/s',
): string {
  const base = results.find((r) => r.name === baseline);
  const rows = results.map((r) => {
    const ratio = base ? (r.opsPerSec / base.opsPerSec).toFixed(2) : '';
    return `| ${r.name} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.p50Us.toFixed(1)} | ${r.p99Us.toFixed(1)} | ${ratio}x | ${r.ops.toLocaleString('en-US')} |`;
  });
  return [
    `| case | ${unit} | p50 (µs) | p99 (µs) | throughput vs ${baseline} | samples |`,
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
