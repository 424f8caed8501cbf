/**
 * What the audit trail costs (issue #17): the refresh grant and MCP `tools/call` with auditing on
 * and off, side by side in one run on loopback. Auditing on is what production runs: each refresh
 * writes one event to the store (SQLite) and one line to the audit stream, each tool call one line
 * to the MCP server's audit stream; the streams go to files (a child's stdout would be kept in this
 * process's memory). Cases run interleaved in rounds (on, off; then off, on; …) so the machine's
 * drift and any advantage of going first hit both alike; the cost is 1 - on/off of the median throughput. Goal: at most 5 %.
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

async function main(): Promise<void> {
  const environment = benchEnvironment();
  console.log(
    `audit cost: ${settings.rounds} rounds of ${settings.seconds} s, ${settings.connections} connections`,
  );
  // Two authorization servers alike but for AUTH_AUDIT; the MCP resource names the "on" MCP server.
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
  const auth = {
    on: await startAuthServer({
      resources: authResources,
      env: {
        ...limits,
        AUTH_AUDIT: CONTROL ? 'false' : 'true',
        AUTH_AUDIT_LOG: auditFile('auth-server'),
      },
    }),
    off: await startAuthServer({
      resources: authResources,
      env: { ...limits, AUTH_AUDIT: 'false' },
    }),
  };
  const mcp = mcpServerApp();
  const startMcp = (key: 'on' | 'off', env: Record<string, string>): Promise<ChildServer> =>
    startChildServer(`MCP server, audit ${key}`, process.execPath, [mcp.main], {
      cwd: mcp.appDir,
      env: {
        MCP_RESOURCE: resources[key],
        AUTH_ISSUER: auth.on.issuer,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        ...env,
      },
      readyUrl: `${new URL(resources[key]).origin}/healthz`,
      listensOn: Number(new URL(resources[key]).port),
    });
  const mcpOn = await startMcp('on', {
    MCP_AUDIT: CONTROL ? 'false' : 'true',
    MCP_AUDIT_LOG: auditFile('mcp-server'),
  });
  const mcpOff = await startMcp('off', { MCP_AUDIT: 'false' });

  // ------------------------------------------------------------ refresh grant
  const refreshLoad = async (key: 'on' | 'off') => {
    const issuer = auth[key].issuer;
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
  const toolsLoad = async (key: 'on' | 'off') => {
    const token = (await obtainToken(auth.on.issuer, resources[key], SCOPE)).accessToken;
    const headers = await mcpRequestHeaders(resources[key], token);
    await checkToolsCall(resources[key], headers);
    const sessions = await mcpSessionPool(resources[key], token, headers, settings.connections);
    return (seconds: number) =>
      load({
        url: resources[key],
        method: 'POST',
        headers,
        body: TOOLS_CALL_BODY,
        connections: settings.connections,
        seconds,
        ...(sessions ? { dynamic: sessions } : {}),
      });
  };
  const cases = [
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
    { key: 'tools-on', name: 'tools/call, audit on', pid: mcpOn.pid, run: await toolsLoad('on') },
    {
      key: 'tools-off',
      name: 'tools/call, audit off',
      pid: mcpOff.pid,
      run: await toolsLoad('off'),
    },
  ];
  // The server's own CPU time per answered request: what auditing adds to the work, far less
  // disturbed by the machine's other load than throughput is.
  const cpuUs: Record<string, number[]> = {};
  const measured = async (c: (typeof cases)[number]) => {
    const before = cpuMs(c.pid);
    const sample = await c.run(settings.seconds);
    const used = ((cpuMs(c.pid) - before) * 1000) / Math.max(1, sample.requests);
    cpuUs[c.key] = [...(cpuUs[c.key] ?? []), used];
    return sample;
  };
  for (const c of cases) await c.run(settings.warmupSeconds);
  const runs: Record<string, LoadSample[]> = {};
  for (let round = 0; round < settings.rounds; round++) {
    // On before off in even rounds, off before on in odd ones: whatever favours the first (or the
    // second) of a pair hits both alike.
    const order = round % 2 === 0 ? cases : [cases[1], cases[0], cases[3], cases[2]];
    for (const c of order) {
      if (c) runs[c.key] = [...(runs[c.key] ?? []), await measured(c)];
    }
    console.log(`  round ${round + 1}/${settings.rounds} done`);
  }
  const summary = cases.map((c) => ({
    key: c.key,
    name: c.name,
    cpuUsPerRequest: median(cpuUs[c.key] ?? []),
    ...summarizeCase(runs[c.key] ?? [], []),
  }));
  const of = (key: string) => summary.find((row) => row.key === key);
  const cost = (on: string, off: string) =>
    1 - (of(on)?.requestsPerSec ?? 0) / (of(off)?.requestsPerSec ?? 1);
  const costs = {
    refresh: cost('refresh-on', 'refresh-off'),
    tools: cost('tools-on', 'tools-off'),
  };
  const cpu = (key: string) => of(key)?.cpuUsPerRequest ?? 0;
  const cpuCosts = {
    refresh: cpu('refresh-on') / Math.max(1, cpu('refresh-off')) - 1,
    tools: cpu('tools-on') / Math.max(1, cpu('tools-off')) - 1,
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
  });
  console.log(`results: ${file}`);
}

try {
  await main();
} finally {
  await stopAll();
}
