/**
 * The benchmark chart, generated from the raw results: reads the newest
 * `results/keycloak-vs-auth-server-*.json` and `results/under-load-*.json` and writes
 * `results/summary.svg` (shown in BENCHMARKS.md). Run after the benches: pnpm --filter
 * @gatehouse/bench chart (the `bench` script does).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Bar, type BarKind, type Panel, renderChart } from './chart-svg.js';

const resultsDir = new URL('../results/', import.meta.url).pathname;

/** The newest `<prefix>-<date>.json` (ISO dates sort by name). */
function newest(prefix: string): { file: string; data: unknown } {
  const files = readdirSync(resultsDir)
    .filter((name) => name.startsWith(`${prefix}-`) && name.endsWith('.json'))
    .sort();
  const file = files.at(-1);
  if (!file) throw new Error(`no ${prefix}-*.json in ${resultsDir}: run the bench first`);
  return { file, data: JSON.parse(readFileSync(join(resultsDir, file), 'utf8')) };
}

interface SystemSummary {
  startToReadyMs: { median: number };
  rssAfterReadyMb: { median: number };
  flow: { totalMs: { median: number } };
}
interface KeycloakVsAuthServer {
  environment: { date: string; node: string };
  summary: Record<'keycloak' | 'auth-server', SystemSummary>;
}
interface UnderLoad {
  environment: { date: string; node: string; machine: { cpus: number; cpu: string } };
  settings: { connections: number; soakSeconds: number };
  validation: Array<{ name: string; p50Us: number }>;
  toolsCall: Array<{ key: string; name: string; requestsPerSec: number }>;
  refresh: Array<{ key: string; name: string; requestsPerSec: number }>;
  soak: Record<'mcp' | 'tokenEndpoint', { rssSeries: Array<[number, number]> }>;
}

const kindOf = (key: string): BarKind =>
  key === 'bare' ? 'baseline' : /keycloak|tutorial/i.test(key) ? 'other' : 'gatehouse';

const comparison = newest('keycloak-vs-auth-server');
const underLoad = newest('under-load');
const kc = comparison.data as KeycloakVsAuthServer;
const load = underLoad.data as UnderLoad;
const whole = (value: number) => Math.round(value).toLocaleString('en-US');
const twoSystems = (pick: (summary: SystemSummary) => number): Bar[] => [
  { label: 'auth-server', value: pick(kc.summary['auth-server']), kind: 'gatehouse' },
  { label: 'Keycloak', value: pick(kc.summary.keycloak), kind: 'other' },
];

const panels: Panel[] = [
  {
    type: 'bars',
    title: 'Token endpoint: refresh grant with rotating refresh tokens',
    unit: `requests/s at ${load.settings.connections} connections (median of rounds); higher is better`,
    bars: load.refresh.map((row) => ({
      label: row.name,
      value: row.requestsPerSec,
      kind: kindOf(row.key),
    })),
    reference: load.refresh.find((row) => row.key === 'keycloak')?.name,
    format: whole,
  },
  {
    type: 'bars',
    title: 'MCP tools/call',
    unit: `requests/s at ${load.settings.connections} connections (median of rounds); higher is better`,
    bars: load.toolsCall.map((row) => ({
      label: row.name,
      value: row.requestsPerSec,
      kind: kindOf(row.key),
    })),
    reference: load.toolsCall.find((row) => row.key === 'bare')?.name,
    format: whole,
  },
  {
    type: 'bars',
    title: 'Token validation, one at a time',
    unit: 'p50 µs per validation; lower is better',
    bars: load.validation.map((row) => ({
      label: row.name,
      value: row.p50Us,
      kind: /Keycloak/.test(row.name)
        ? 'other'
        : row.name.startsWith('(a)')
          ? 'baseline'
          : 'gatehouse',
    })),
    reference: load.validation[0]?.name,
    format: whole,
  },
  {
    type: 'bars',
    title: 'Start to ready (cold start)',
    unit: 'ms, median; lower is better',
    bars: twoSystems((s) => s.startToReadyMs.median),
    reference: 'auth-server',
    format: whole,
  },
  {
    type: 'bars',
    title: 'Resident memory right after ready',
    unit: 'MB, median; lower is better',
    bars: twoSystems((s) => s.rssAfterReadyMb.median),
    reference: 'auth-server',
    format: whole,
  },
  {
    type: 'bars',
    title: 'Full authorization flow (discovery, DCR, PKCE, login, consent, token)',
    unit: 'ms, median; lower is better',
    bars: twoSystems((s) => s.flow.totalMs.median),
    reference: 'auth-server',
    format: whole,
  },
  {
    type: 'lines',
    title: `Soak at saturation, ${load.settings.soakSeconds} s: resident memory`,
    xUnit: 'seconds',
    yUnit: 'MB',
    lines: [
      {
        label: 'MCP server (JWT), tools/call',
        kind: 'gatehouse',
        points: load.soak.mcp.rssSeries,
      },
      {
        label: 'auth-server (SQLite), refresh',
        kind: 'gatehouse',
        points: load.soak.tokenEndpoint.rssSeries,
      },
    ],
  },
];

const svg = renderChart(
  'Gatehouse vs Keycloak and the tutorial’s introspect-every-request design',
  [
    `From bench/results/${underLoad.file} and ${comparison.file}; Node ${load.environment.node}, ${load.environment.machine.cpus} × ${load.environment.machine.cpu}, loopback.`,
    "Blue: Gatehouse; orange: Keycloak or the tutorial's server; grey: the baseline. Ratios in brackets are against the panel's reference bar.",
  ],
  panels,
);
const out = join(resultsDir, 'summary.svg');
writeFileSync(out, svg);
console.log(`Chart: ${out}`);
