import { createServer } from 'node:net';
import { checkExchange } from './checks.js';
import { ConnectionPool, type ExchangeResult } from './connection.js';
import type { Findings } from './findings.js';
import type { FuzzContext } from './generate/context.js';
import type { AppName, PlannedRequest } from './plan.js';
import { harvestSecrets, type SecretRegistry } from './secrets.js';

/**
 * Runs the generated requests with a few concurrent workers. Each worker has a loopback source
 * address of its own (127.0.0.10, .11, ...): per-IP limits such as the sign-in throttle then
 * apply per worker, and none of them touches 127.0.0.1, from which the flows before and after the
 * fuzz sign in.
 */

export interface RunOptions {
  readonly seed: number;
  readonly indices: readonly number[];
  readonly concurrency: number;
  readonly ctx: FuzzContext;
  readonly generate: (seed: number, index: number, ctx: FuzzContext) => PlannedRequest;
  readonly foreign: RegExp;
  readonly findings: Findings;
  readonly secrets: SecretRegistry;
  /** Stop starting new requests after this many ms (the run stays bounded on a slow machine). */
  readonly budgetMs: number;
  readonly timeoutMs?: number;
}

export interface RunStats {
  readonly sent: number;
  readonly elapsedMs: number;
  readonly stoppedEarly: boolean;
  /** Status classes per app and endpoint family: shows how deep the fuzz got. */
  readonly statuses: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/**
 * How long a request may go unanswered: long enough for a machine busy with other test suites,
 * short enough that the hangs found (each holds a worker this long) keep the run bounded.
 */
const TIMEOUT_MS = 15_000;

/**
 * The loopback source address of worker `id`, or undefined where only 127.0.0.1 exists (macOS
 * without aliases): then every worker shares it, and per-IP limits apply to the run as a whole.
 */
async function sourceAddress(id: number): Promise<string | undefined> {
  const address = `127.0.0.${10 + id}`;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, address, resolve);
    });
    return address;
  } catch {
    return undefined;
  } finally {
    probe.close();
  }
}

function statusClass(result: ExchangeResult): string {
  if (result.responses.length === 0) return result.timedOut ? 'timeout' : 'none';
  return result.responses.map((r) => String(r.status)).join('+');
}

export async function runFuzz(options: RunOptions): Promise<RunStats> {
  const started = Date.now();
  const statuses = new Map<string, Map<string, number>>();
  let next = 0;
  let sent = 0;
  let stoppedEarly = false;

  const record = (plan: PlannedRequest, result: ExchangeResult) => {
    const key = `${plan.app} ${plan.endpoint}`;
    const counts = statuses.get(key) ?? new Map<string, number>();
    statuses.set(key, counts);
    const status = statusClass(result);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  };

  const worker = async (id: number) => {
    const localAddress = await sourceAddress(id);
    const pools: Record<AppName, ConnectionPool> = {
      auth: new ConnectionPool({
        port: options.ctx.authPort,
        localAddress,
        timeoutMs: options.timeoutMs ?? TIMEOUT_MS,
        streamGraceMs: 1_500,
      }),
      mcp: new ConnectionPool({
        port: options.ctx.mcpPort,
        localAddress,
        timeoutMs: options.timeoutMs ?? TIMEOUT_MS,
        streamGraceMs: 1_500,
      }),
    };
    // The last request each connection served: the cause when the next one on it goes wrong.
    const previous: Partial<Record<AppName, PlannedRequest>> = {};
    try {
      for (;;) {
        const position = next++;
        if (position >= options.indices.length) return;
        if (Date.now() - started > options.budgetMs) {
          stoppedEarly = true;
          return;
        }
        const plan = options.generate(options.seed, options.indices[position] ?? 0, options.ctx);
        options.secrets.addAll(plan.sentSecrets);
        let result: ExchangeResult;
        try {
          result = await pools[plan.app].send(plan);
        } catch (error) {
          options.findings.add({
            kind: 'connect-failed',
            endpoint: `${plan.app} ${plan.endpoint}`,
            detail: (error as NodeJS.ErrnoException).code ?? (error as Error).message,
            index: plan.index,
          });
          continue;
        }
        sent++;
        record(plan, result);
        for (const response of result.responses) harvestSecrets(response, options.secrets);
        const before = result.after === undefined ? undefined : previous[plan.app];
        options.findings.add(...checkExchange(plan, result, options.foreign, before));
        previous[plan.app] = plan;
      }
    } finally {
      pools.auth.close();
      pools.mcp.close();
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, (_, id) => worker(id)));
  return { sent, elapsedMs: Date.now() - started, stoppedEarly, statuses };
}

/** One line per endpoint: `auth POST /reg: 400×412 201×311 ...`. */
export function formatStats(stats: RunStats): string {
  const lines = [...stats.statuses]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, counts]) => `${key}: ${formatCounts(counts)}`);
  return lines.join('\n');
}

/** Status counts per app, for the one line printed after the run. */
export function formatTotals(stats: RunStats): string {
  const totals = new Map<string, Map<string, number>>();
  for (const [key, counts] of stats.statuses) {
    const app = key.split(' ')[0] ?? key;
    const total = totals.get(app) ?? new Map<string, number>();
    totals.set(app, total);
    for (const [status, n] of counts) {
      // Pipelined answers (`200+200`) count as their first status here.
      const first = status.split('+')[0] ?? status;
      total.set(first, (total.get(first) ?? 0) + n);
    }
  }
  return [...totals].map(([app, counts]) => `${app}: ${formatCounts(counts)}`).join('; ');
}

function formatCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status}×${n}`)
    .join(' ');
}
