/**
 * In-process timing of async operations, side by side: cases run interleaved in rounds
 * (a, b, c, a, b, c, …) so that noise from other tenants of a shared machine hits every case alike;
 * every operation is timed on its own (µs). Throughput is operations per second of busy time.
 */

export interface TimedCase {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

export interface TimedResult {
  readonly name: string;
  readonly opsPerSec: number;
  /** Every operation's duration in µs, in run order. */
  readonly samplesUs: number[];
}

async function runFor(run: () => Promise<unknown>, ms: number, samples?: number[]) {
  const end = performance.now() + ms;
  let busyNs = 0;
  while (performance.now() < end) {
    const started = process.hrtime.bigint();
    await run();
    const elapsed = Number(process.hrtime.bigint() - started);
    samples?.push(elapsed / 1000);
    busyNs += elapsed;
  }
  return busyNs;
}

export async function timeInterleaved(
  cases: readonly TimedCase[],
  options: { rounds: number; roundMs: number; warmupMs: number },
): Promise<TimedResult[]> {
  for (const c of cases) await runFor(c.run, options.warmupMs);
  const results = cases.map((c) => ({ name: c.name, samplesUs: [] as number[], busyNs: 0 }));
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, c] of cases.entries()) {
      const result = results[i];
      if (result) result.busyNs += await runFor(c.run, options.roundMs, result.samplesUs);
    }
  }
  return results.map(({ name, samplesUs, busyNs }) => ({
    name,
    samplesUs,
    opsPerSec: samplesUs.length / (busyNs / 1e9),
  }));
}
