/**
 * What recording one audit event costs in CPU, everything included: building the bounded event,
 * the log line (hand-serialized, batched to a file), and the store's batched SQLite transaction
 * with its grant-activity upsert. Measured as process CPU time (all threads) per event over
 * batches of events, rounds interleaved across cases, so it is not disturbed by other processes
 * the way a whole-server throughput run is (bench/src/audit-cost.ts on a 2-core machine cannot
 * resolve a few percent). Compare with the server CPU per request of the refresh grant (~3,200 µs)
 * and of tools/call (~1,400 µs) in BENCHMARKS.md.
 * Run: pnpm --filter @gatehouse/audit bench. Options: BENCH_ROUNDS (7), BENCH_EVENTS (20000).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditStream } from '@gatehouse/logging';
import { type AuditLog, createAuditTrail, openSqliteAuditLog } from '../src/index.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const events = Number(process.env.BENCH_EVENTS ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-bench-'));
const { log, close } = await openSqliteAuditLog(join(dir, 'auth.db'));

function trailOf(options: { stream: boolean; store: AuditLog | undefined; enabled: boolean }) {
  const stream = options.stream
    ? createAuditStream({
        service: 'bench',
        format: 'json',
        destination: { file: join(dir, 'audit.log') },
      })
    : undefined;
  const trail = createAuditTrail({
    enabled: options.enabled,
    log: options.store,
    stream,
    retentionMs: 86_400_000,
    onStoreError: (error) => {
      throw error;
    },
  });
  return { trail, stream };
}

const cases = [
  { name: '(a) auditing off', ...trailOf({ stream: false, store: undefined, enabled: false }) },
  {
    name: '(b) log line only (file)',
    ...trailOf({ stream: true, store: undefined, enabled: true }),
  },
  { name: '(c) store only (SQLite)', ...trailOf({ stream: false, store: log, enabled: true }) },
  {
    name: '(d) log line + store: production',
    ...trailOf({ stream: true, store: log, enabled: true }),
  },
];

/** A tool call as the MCP server records it: ids, the tool, the duration. */
const toolCall = (i: number) => ({
  type: 'tool_call' as const,
  outcome: 'success' as const,
  actor: 'alice',
  client: 'pub_lNXWaTI3yl3vpUQV8Cyok7iaMpNSQdBm',
  resource: 'http://localhost:3000/mcp',
  grant: `grant-${i % 50}`,
  requestId: '6afcbfa3-99ab-40c0-9b4e-bbd8ed41a846',
  detail: { tool: 'add_numbers', duration_ms: '0.4' },
});

const perEvent = new Map<string, number[]>();
for (let round = 0; round < rounds + 1; round++) {
  for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
    const before = process.cpuUsage();
    for (let i = 0; i < events; i++) c.trail.record(toolCall(i));
    await c.trail.flush();
    c.stream?.flush();
    // The file writer's last chunk, on the thread pool.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const used = process.cpuUsage(before);
    // Round 0 warms up.
    if (round > 0)
      perEvent.set(c.name, [...(perEvent.get(c.name) ?? []), (used.user + used.system) / events]);
  }
}
await close();

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const base = median(perEvent.get(cases[0]?.name ?? '') ?? []);
console.log(
  `\nProcess CPU per recorded event, ${rounds} rounds of ${events} events, Node ${process.version}\n`,
);
console.log(
  '| case | CPU per event (µs, median) | added to (a) (µs) | of a tools/call (1,400 µs) | of a refresh (3,200 µs) |',
);
console.log('|---|---:|---:|---:|---:|');
for (const c of cases) {
  const value = median(perEvent.get(c.name) ?? []);
  const added = value - base;
  console.log(
    `| ${c.name} | ${value.toFixed(2)} | ${c === cases[0] ? '' : added.toFixed(2)} | ${c === cases[0] ? '' : `${((added / 1400) * 100).toFixed(2)} %`} | ${c === cases[0] ? '' : `${((added / 3200) * 100).toFixed(2)} %`} |`,
  );
}
