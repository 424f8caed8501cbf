/**
 * What the audit trail costs (issue #17): the refresh grant and MCP `tools/call` with auditing on
 * and off, side by side in one run on loopback. Auditing on is what production runs: each refresh
 * writes one event to the store (SQLite) and one line to the audit stream, each tool call one line
 * to the MCP server's audit stream and one event to the authorization server's store (the same
 * SQLite file, MCP_AUDIT_STORE); the streams go to files (a child's stdout would be kept in this
 * process's memory). Cases run interleaved in rounds (on, off; then off, on; …) so the machine's
 * drift and any advantage of going first hit both alike; the cost is the median over rounds of each
 * round's on/off ratio (throughput, and server CPU per request). Goal: at most 5 %.
 * Each round starts fresh servers (see startRound).
 * Run: pnpm --filter @gatehouse/bench bench:audit. Options: BENCH_SECONDS, BENCH_ROUNDS,
 * BENCH_CONNECTIONS, BENCH_WARMUP_SECONDS (README.md).
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, obtainToken } from '@gatehouse/testkit';
import { type LoadSample, load, refreshGrantLoad, summarizeCase } from './load.js';
import { checkToolsCall, mcpRequestHeaders, mcpSessionPool, TOOLS_CALL_BODY } from './mcp-calls.js';
import { cpuMs } from './process-memory.js';
import { refreshChains } from './refresh-chains.js';
import { benchEnvironment, benchSetting, markdownTable, num, writeResults } from './report.js';
import {
  type BenchServer,
  type ChildServer,
  mcpServerApp,
  startAuthServer,
  startChildServer,
  stopAll,
  stopAllOnSignal,
} from './servers.js';
import { median } from './stats.js';

const settings = {
  seconds: benchSetting('BENCH_SECONDS', 5, 1),
  rounds: benchSetting('BENCH_ROUNDS', 5, 1),
  connections: benchSetting('BENCH_CONNECTIONS', 10, 1),
  warmupSeconds: benchSetting('BENCH_WARMUP_SECONDS', 5, 0),
};
const SCOPE = 'mcp:tools';
/** BENCH_AUDIT_CONTROL=1: "on" runs with auditing off too (an A/A run: how large the noise is). */
const CONTROL = process.env.BENCH_AUDIT_CONTROL === '1';
const GOAL_COST = 0.05;

stopAllOnSignal();

const logs = mkdtempSync(join(tmpdir(), 'gatehouse-bench-audit-'));
const auditFile = (name: string) => join(logs, `${name}.log`);

type Side = 'on' | 'off';
interface Case {
  readonly key: string;
  readonly name: string;
  readonly pid: number;
  run(seconds: number): Promise<LoadSample>;
}

/**
 * One round's servers, started afresh (the side started first alternates): two authorization
 * servers (SQLite) alike but for AUTH_AUDIT, and two MCP servers alike but for MCP_AUDIT. Fresh
 * processes each round because two identical processes can differ by 10 % and more for their
 * whole life (an A/A run on one pair of processes showed 14.5 % on tools/call): only many pairs
 * average that out.
 */
async function startRound(round: number): Promise<{ cases: Case[]; stop(): Promise<void> }> {
  const sides: Side[] = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
  const [onPort, offPort] = [await freePort(), await freePort()];
  const resources = {
    on: `http://localhost:${onPort}/mcp`,
    off: `http://localhost:${offPort}/mcp`,
  };
  const authResources = Object.values(resources).map((resource) => ({
    resource,
    scopes: ['mcp:tools', 'mcp:admin'],
    defaultScopes: ['mcp:tools'],
  }));
  const limits = { AUTH_TOKEN_RATE_LIMIT: '100000000' };
  const auditOn = (side: Side) => side === 'on' && !CONTROL;
  // The "on" MCP server adds its tool calls to the "on" authorization server's store, as in
  // production (MCP_AUDIT_STORE): one SQLite file, two processes writing.
  const onStore = `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-bench-audit-db-')), 'auth.db')}`;
  const startAuth = (side: Side) =>
    startAuthServer({
      ...(side === 'on' ? { store: onStore } : {}),
      resources: authResources,
      env: {
        ...limits,
        AUTH_AUDIT: String(auditOn(side)),
        ...(auditOn(side) ? { AUTH_AUDIT_LOG: auditFile('auth-server') } : {}),
      },
    });
  const auth = {} as Record<Side, BenchServer>;
  for (const side of sides) auth[side] = await startAuth(side);
  const mcp = mcpServerApp();
  const startMcp = (side: Side): Promise<ChildServer> =>
    startChildServer(`MCP server, audit ${side}`, process.execPath, [mcp.main], {
      cwd: mcp.appDir,
      env: {
        MCP_RESOURCE: resources[side],
        // One token drives the load: the per-user limit would measure 429s.
        MCP_RATE_LIMIT: 'off',
        AUTH_ISSUER: auth.on.issuer,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        MCP_AUDIT: String(auditOn(side)),
        ...(auditOn(side)
          ? { MCP_AUDIT_LOG: auditFile('mcp-server'), MCP_AUDIT_STORE: onStore }
          : {}),
      },
      readyUrl: `${new URL(resources[side]).origin}/healthz`,
      listensOn: Number(new URL(resources[side]).port),
    });
  const mcpServers = {} as Record<Side, ChildServer>;
  for (const side of sides) mcpServers[side] = await startMcp(side);

  // ------------------------------------------------------------ refresh grant
  const refreshLoad = async (side: Side) => {
    const issuer = auth[side].issuer;
    const first = await obtainToken(issuer, resources.on, SCOPE);
    const newChain = async () =>
      (await obtainToken(issuer, resources.on, SCOPE, undefined, { clientId: first.clientId }))
        .refreshToken;
    const initial = [first.refreshToken];
    while (initial.length < settings.connections) initial.push(await newChain());
    const pool = refreshChains({
      tokenEndpoint: `${issuer}/token`,
      clientId: first.clientId,
      initial,
      newChain,
    });
    await pool.repair(settings.connections);
    return async (seconds: number) => {
      await pool.repair(settings.connections);
      pool.takeBroken();
      return refreshGrantLoad(pool, {
        tokenEndpoint: `${issuer}/token`,
        connections: settings.connections,
        seconds,
      });
    };
  };
  // ------------------------------------------------------------ tools/call
  const toolsLoad = async (side: Side) => {
    const token = (await obtainToken(auth.on.issuer, resources[side], SCOPE)).accessToken;
    const headers = await mcpRequestHeaders(resources[side], token);
    await checkToolsCall(resources[side], headers);
    const sessions = await mcpSessionPool(resources[side], token, headers, settings.connections);
    return (seconds: number) =>
      load({
        url: resources[side],
        method: 'POST',
        headers,
        body: TOOLS_CALL_BODY,
        connections: settings.connections,
        seconds,
        ...(sessions ? { dynamic: sessions } : {}),
      });
  };
  const cases: Case[] = [
    {
      key: 'refresh-on',
      name: 'refresh grant, audit on',
      pid: auth.on.pid,
      run: await refreshLoad('on'),
    },
    {
      key: 'refresh-off',
      name: 'refresh grant, audit off',
      pid: auth.off.pid,
      run: await refreshLoad('off'),
    },
    {
      key: 'tools-on',
      name: 'tools/call, audit on',
      pid: mcpServers.on.pid,
      run: await toolsLoad('on'),
    },
    {
      key: 'tools-off',
      name: 'tools/call, audit off',
      pid: mcpServers.off.pid,
      run: await toolsLoad('off'),
    },
  ];
  const stop = async () => {
    await Promise.all([...Object.values(mcpServers), ...Object.values(auth)].map((s) => s.stop()));
  };
  return { cases, stop };
}

async function main(): Promise<void> {
  const environment = benchEnvironment();
  console.log(
    `audit cost: ${settings.rounds} rounds of ${settings.seconds} s, ${settings.connections} connections, fresh servers each round`,
  );
  // The server's own CPU time per answered request: what auditing adds to the work, far less
  // disturbed by the machine's other load than throughput is.
  const cpuUs: Record<string, number[]> = {};
  const runs: Record<string, LoadSample[]> = {};
  let cases: Case[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    const started = await startRound(round);
    cases = started.cases;
    try {
      for (const c of cases) await c.run(settings.warmupSeconds);
      // On before off in even rounds, off before on in odd ones: whatever favours the first (or
      // the second) of a pair hits both alike.
      const order = round % 2 === 0 ? cases : [cases[1], cases[0], cases[3], cases[2]];
      for (const c of order) {
        if (!c) continue;
        const before = cpuMs(c.pid);
        const sample = await c.run(settings.seconds);
        cpuUs[c.key] = [
          ...(cpuUs[c.key] ?? []),
          ((cpuMs(c.pid) - before) * 1000) / Math.max(1, sample.requests),
        ];
        runs[c.key] = [...(runs[c.key] ?? []), sample];
      }
    } finally {
      await started.stop();
    }
    console.log(`  round ${round + 1}/${settings.rounds} done`);
  }
  const summary = cases.map((c) => ({
    key: c.key,
    name: c.name,
    cpuUsPerRequest: median(cpuUs[c.key] ?? []),
    ...summarizeCase(runs[c.key] ?? [], []),
  }));
  // Costs from the rounds' paired ratios (on vs off in the same round, on processes started
  // together), then their median: the machine's drift from round to round (other load) cancels
  // within a pair, where a ratio of medians would keep it.
  const pairedCost = (
    values: Record<string, number[]>,
    on: string,
    off: string,
    higherIsWorse: boolean,
  ) =>
    median(
      (values[on] ?? []).map((value, round) => {
        const other = values[off]?.[round] ?? value;
        return higherIsWorse ? value / other - 1 : 1 - value / other;
      }),
    );
  const throughput = Object.fromEntries(
    Object.entries(runs).map(([key, samples]) => [key, samples.map((s) => s.requestsPerSec)]),
  );
  const costs = {
    refresh: pairedCost(throughput, 'refresh-on', 'refresh-off', false),
    tools: pairedCost(throughput, 'tools-on', 'tools-off', false),
  };
  const cpuCosts = {
    refresh: pairedCost(cpuUs, 'refresh-on', 'refresh-off', true),
    tools: pairedCost(cpuUs, 'tools-on', 'tools-off', true),
  };
  const pair = (key: string) => (key.startsWith('refresh') ? 'refresh' : 'tools');
  const table = markdownTable([
    [
      'case',
      'requests/s (median)',
      'server CPU per request',
      'p50',
      'p99',
      'failed',
      'throughput cost',
      'CPU cost',
    ],
    ...summary.map((row) => [
      row.name,
      num(row.requestsPerSec, ''),
      num(row.cpuUsPerRequest, ' µs'),
      num(row.p50Ms, ' ms'),
      num(row.p99Ms, ' ms'),
      String(row.failed),
      row.key.endsWith('-on') ? `${(costs[pair(row.key)] * 100).toFixed(1)} %` : '',
      row.key.endsWith('-on') ? `${(cpuCosts[pair(row.key)] * 100).toFixed(1)} %` : '',
    ]),
  ]);
  console.log(`\n${table}`);
  const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
  const auditBytes = {
    authServer: size(auditFile('auth-server')),
    mcpServer: size(auditFile('mcp-server')),
  };
  console.log(
    `\naudit stream written: auth-server ${auditBytes.authServer} bytes, MCP server ${auditBytes.mcpServer} bytes`,
  );
  for (const name of ['refresh', 'tools'] as const) {
    console.log(
      `${name}: throughput ${(costs[name] * 100).toFixed(1)} %, server CPU per request ${(cpuCosts[name] * 100).toFixed(1)} % (goal at most ${GOAL_COST * 100} %): ${cpuCosts[name] <= GOAL_COST ? 'met' : 'NOT met'} by CPU`,
    );
  }
  const file = writeResults(CONTROL ? 'audit-cost-control' : 'audit-cost', environment.date, {
    environment,
    settings,
    costs,
    cpuCosts,
    auditBytes,
    summary,
    cpuUsPerRound: cpuUs,
  });
  console.log(`results: ${file}`);
}

try {
  await main();
} finally {
  await stopAll();
}
