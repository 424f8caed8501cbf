/**
 * Keycloak side by side with our authorization server, in one run, on loopback:
 *   1. start-to-ready time (cold starts: Keycloak `kc.sh start --optimized` with the `mcp` realm
 *      imported into in-memory H2; auth-server `node dist/main.js` with a fresh SQLite file);
 *   2. resident memory (RSS summed over the process tree) after ready and after the flows;
 *   3. full authorization-flow latency (discovery, DCR, authorize with PKCE S256, login, consent,
 *      code exchange) by a headless client, with the phases timed separately.
 * The systems alternate (A B, then B A, …) and never run flows at the same time.
 * Run: pnpm bench (root) or pnpm --filter @gatehouse/bench bench.
 * Options: BENCH_STARTS (default 3), BENCH_WARMUP (5), BENCH_FLOWS (50).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findJavaHome, KEYCLOAK_VERSION } from '@gatehouse/keycloak-runner';
import {
  checkAccessToken,
  discover,
  type FlowSample,
  SCOPE,
  type ServerEndpoints,
  timedFlow,
} from './flow.js';
import { processTree, type TreeRss, treeRss } from './process-memory.js';
import {
  benchEnvironment,
  benchSetting,
  markdownTable,
  num,
  times,
  writeResults,
} from './report.js';
import {
  type BenchServer,
  MCP_RESOURCE,
  type SystemName,
  startAuthServer,
  startKeycloakServer,
  stopAll,
  stopAllOnSignal,
} from './servers.js';
import { ratio, type Summary, summarize } from './stats.js';

const starts = benchSetting('BENCH_STARTS', 3, 1);
const warmup = benchSetting('BENCH_WARMUP', 5, 0);
const flows = benchSetting('BENCH_FLOWS', 50, 1);
const SYSTEMS: readonly SystemName[] = ['keycloak', 'auth-server'];
const startSystem = (system: SystemName) =>
  system === 'keycloak' ? startKeycloakServer() : startAuthServer();
/** Round `i` runs Keycloak first when `i` is even, auth-server first when odd. */
const orderOf = (round: number): readonly SystemName[] =>
  round % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();

// Ctrl-C / SIGTERM: stop what runs, then exit. (A Keycloak still starting is stopped by the
// launcher's own exit hook.) The run itself then fails on its closed connections: that is expected.
let interrupted = false;
stopAllOnSignal(() => {
  interrupted = true;
});

/** `java -version` of the JDK the Keycloak launcher picks (`findJavaHome()`). */
function javaVersion(): { home: string; version: string; short: string } {
  const home = findJavaHome();
  const result = spawnSync(join(home, 'bin', 'java'), ['-version'], { encoding: 'utf8' });
  const lines = `${result.stderr}${result.stdout}`.trim().split('\n');
  const number = /version "([^"]+)"/.exec(lines[0] ?? '')?.[1] ?? '?';
  const vendor = /Temurin|Debian|Ubuntu|Zulu|Corretto|GraalVM/.exec(lines[1] ?? '')?.[0];
  return {
    home,
    version: lines.slice(0, 2).join(' / '),
    short: `Java ${number}${vendor ? ` (${vendor})` : ''}`,
  };
}

/** The JVM's heap flags as kc.sh chose them (read from the running java's command line). */
function jvmHeapFlags(server: BenchServer): string[] {
  for (const pid of processTree(server.pid)) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!args[0]?.endsWith('java')) continue;
    return args.filter((arg) =>
      /^-Xm[sx]|^-XX:(Max|Min|Initial)RAMPercentage|^-XX:\+Use\w+GC$/.test(arg),
    );
  }
  return [];
}

interface StartSample {
  readonly system: SystemName;
  readonly round: number;
  readonly readyMs: number;
  readonly rssAfterReady: TreeRss;
}

interface FlowInstance {
  readonly readyMs: number;
  readonly rssAfterReady: TreeRss;
  rssAfterWarmup?: TreeRss;
  rssAfterFlows?: TreeRss;
  readonly heapFlags?: string[];
}

interface FlowRecord extends FlowSample {
  readonly system: SystemName;
  readonly round: number;
}

const environment = {
  ...benchEnvironment(),
  java: javaVersion(),
  keycloak: KEYCLOAK_VERSION,
};
console.log(
  `\nKeycloak ${environment.keycloak} vs auth-server: ${starts} cold starts each, ${warmup} warm-up + ${flows} flows each, interleaved`,
);
console.log(`Java: ${environment.java.version} (${environment.java.home})`);

const startSamples: StartSample[] = [];
const flowSamples: FlowRecord[] = [];
/** The instances that served the flows (started after the cold starts, both running together). */
const flowPhase: Partial<Record<SystemName, FlowInstance>> = {};

try {
  // 1. Cold starts, one system at a time: spawn → ready → RSS → stop.
  for (let round = 0; round < starts; round++) {
    for (const system of orderOf(round)) {
      const server = await startSystem(system);
      try {
        const sample = {
          system,
          round,
          readyMs: server.readyMs,
          rssAfterReady: treeRss(server.pid),
        };
        startSamples.push(sample);
        console.log(
          `  start ${round + 1}/${starts} ${system}: ready in ${sample.readyMs.toFixed(0)} ms, RSS ${sample.rssAfterReady.totalMb.toFixed(0)} MB`,
        );
      } finally {
        await server.stop();
      }
    }
  }

  // 2 and 3. One instance of each; flows alternate between them, one at a time.
  const servers = {} as Record<SystemName, BenchServer>;
  const endpoints = {} as Record<SystemName, ServerEndpoints>;
  for (const system of SYSTEMS) {
    const server = await startSystem(system);
    servers[system] = server;
    flowPhase[system] = {
      readyMs: server.readyMs,
      rssAfterReady: treeRss(server.pid),
      ...(system === 'keycloak' ? { heapFlags: jvmHeapFlags(server) } : {}),
    };
    endpoints[system] = await discover(server.issuer);
  }
  for (let round = 0; round < warmup; round++) {
    for (const system of orderOf(round)) {
      const server = servers[system];
      const { accessToken } = await timedFlow(server.issuer, endpoints[system], MCP_RESOURCE);
      if (round === 0) checkAccessToken(accessToken, server.issuer, MCP_RESOURCE);
    }
  }
  for (const system of SYSTEMS) {
    const phase = flowPhase[system];
    if (phase) phase.rssAfterWarmup = treeRss(servers[system].pid);
  }
  console.log(`  ${warmup} warm-up flows each done`);
  for (let round = 0; round < flows; round++) {
    for (const system of orderOf(round)) {
      const { accessToken: _, ...sample } = await timedFlow(
        servers[system].issuer,
        endpoints[system],
        MCP_RESOURCE,
      );
      flowSamples.push({ system, round, ...sample });
    }
    if ((round + 1) % 10 === 0) console.log(`  ${round + 1}/${flows} flows each done`);
  }
  for (const system of SYSTEMS) {
    const phase = flowPhase[system];
    if (phase) phase.rssAfterFlows = treeRss(servers[system].pid);
  }
} catch (error) {
  // Stopped by a signal: the error is the servers going away; the handler exits with 130.
  if (interrupted) {
    await stopAll();
    process.exit(130);
  }
  throw error;
} finally {
  await stopAll();
}

// Report.
type Metric = keyof Omit<FlowSample, 'requests'>;
const PHASES: ReadonlyArray<{ metric: Metric; label: string }> = [
  { metric: 'totalMs', label: 'full flow: discovery + DCR + authorize + login + consent + token' },
  { metric: 'discoveryMs', label: '  discovery (GET openid-configuration)' },
  { metric: 'registrationMs', label: '  dynamic client registration' },
  { metric: 'authorizationMs', label: '  authorize + login form + consent (redirects included)' },
  { metric: 'tokenMs', label: '  token (code exchange)' },
];
const of = <T extends { system: SystemName }>(rows: readonly T[], system: SystemName) =>
  rows.filter((row) => row.system === system);
const summaries = Object.fromEntries(
  SYSTEMS.map((system) => {
    const starting = of(startSamples, system);
    const flowing = of(flowSamples, system);
    const half = Math.floor(flowing.length / 2);
    return [
      system,
      {
        startToReadyMs: summarize(starting.map((s) => s.readyMs)),
        rssAfterReadyMb: summarize(starting.map((s) => s.rssAfterReady.totalMb)),
        rssFlowInstanceMb: {
          afterReady: flowPhase[system]?.rssAfterReady.totalMb,
          afterWarmup: flowPhase[system]?.rssAfterWarmup?.totalMb,
          afterFlows: flowPhase[system]?.rssAfterFlows?.totalMb,
        },
        flow: Object.fromEntries(
          PHASES.map(({ metric }) => [metric, summarize(flowing.map((s) => s[metric]))]),
        ) as Record<Metric, Summary>,
        flowTotalMedianByHalf: [
          summarize(flowing.slice(0, half).map((s) => s.totalMs)).median,
          summarize(flowing.slice(half).map((s) => s.totalMs)).median,
        ],
        requestsPerFlow: flowing[0]?.requests,
      },
    ];
  }),
) as Record<
  SystemName,
  {
    startToReadyMs: Summary;
    rssAfterReadyMb: Summary;
    rssFlowInstanceMb: { afterReady?: number; afterWarmup?: number; afterFlows?: number };
    flow: Record<Metric, Summary>;
    flowTotalMedianByHalf: [number, number];
    requestsPerFlow?: number;
  }
>;

const kc = summaries.keycloak;
const as = summaries['auth-server'];
/** One table row: both systems' median and tail, their ratio, the sample count. */
const summaryRow = (
  label: string,
  keycloak: { median: number; max: number; p99: number; n: number },
  authServer: { median: number; max: number; p99: number; n: number },
  unit: string,
  tail: 'max' | 'p99',
) => [
  label,
  num(keycloak.median, unit),
  num(keycloak[tail], unit),
  num(authServer.median, unit),
  num(authServer[tail], unit),
  times(ratio(keycloak.median, authServer.median)),
  String(keycloak.n),
];

const rows: string[][] = [
  [
    'measure',
    'Keycloak p50',
    'Keycloak p99/max',
    'auth-server p50',
    'auth-server p99/max',
    'Keycloak / auth-server (p50)',
    'n each',
  ],
  summaryRow('start-to-ready (cold start)', kc.startToReadyMs, as.startToReadyMs, 'ms', 'max'),
  summaryRow(
    'RSS right after ready (cold starts)',
    kc.rssAfterReadyMb,
    as.rssAfterReadyMb,
    'MB',
    'max',
  ),
  [
    `RSS after ${warmup} + ${flows} flows`,
    num(kc.rssFlowInstanceMb.afterFlows, 'MB'),
    '',
    num(as.rssFlowInstanceMb.afterFlows, 'MB'),
    '',
    times(
      ratio(
        kc.rssFlowInstanceMb.afterFlows ?? Number.NaN,
        as.rssFlowInstanceMb.afterFlows ?? Number.NaN,
      ),
    ),
    '1',
  ],
  ...PHASES.map(({ metric, label }) =>
    summaryRow(label, kc.flow[metric], as.flow[metric], 'ms', 'p99'),
  ),
];
console.log(
  `\nKeycloak ${environment.keycloak} vs auth-server, Node ${environment.node}, ${environment.java.short}, ${environment.machine.cpus} × ${environment.machine.cpu}, loopback\n`,
);
console.log(markdownTable(rows));
console.log(
  `\nRSS of the flow instances (after ready → after ${warmup} warm-up flows → after ${flows} more): Keycloak ${num(kc.rssFlowInstanceMb.afterReady, 'MB')} → ${num(kc.rssFlowInstanceMb.afterWarmup, 'MB')} → ${num(kc.rssFlowInstanceMb.afterFlows, 'MB')}, auth-server ${num(as.rssFlowInstanceMb.afterReady, 'MB')} → ${num(as.rssFlowInstanceMb.afterWarmup, 'MB')} → ${num(as.rssFlowInstanceMb.afterFlows, 'MB')}`,
);
console.log(
  `Flow median, first half → second half of the ${flows} flows: Keycloak ${num(kc.flowTotalMedianByHalf[0], 'ms')} → ${num(kc.flowTotalMedianByHalf[1], 'ms')}, auth-server ${num(as.flowTotalMedianByHalf[0], 'ms')} → ${num(as.flowTotalMedianByHalf[1], 'ms')}`,
);
console.log(
  `HTTP requests per flow: Keycloak ${kc.requestsPerFlow ?? 'n/a'}, auth-server ${as.requestsPerFlow ?? 'n/a'}; scope "${SCOPE}", resource ${MCP_RESOURCE}`,
);
console.log(
  `Keycloak JVM heap flags (from kc.sh): ${flowPhase.keycloak?.heapFlags?.join(' ') ?? 'n/a'}`,
);

const file = writeResults('keycloak-vs-auth-server', environment.date, {
  benchmark: 'keycloak-vs-auth-server',
  environment,
  settings: { starts, warmup, flows, scope: SCOPE, resource: MCP_RESOURCE },
  summary: summaries,
  flowInstances: flowPhase,
  samples: {
    starts: startSamples,
    // Per system and phase, in run order; round r ran Keycloak first when r is even.
    flows: Object.fromEntries(
      SYSTEMS.map((system) => [
        system,
        Object.fromEntries(
          PHASES.map(({ metric }) => [metric, of(flowSamples, system).map((s) => s[metric])]),
        ),
      ]),
    ),
  },
});
console.log(`\nRaw samples and summary: ${file}`);
