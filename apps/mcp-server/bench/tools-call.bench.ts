/**
 * MCP `tools/call` through the full auth path (auth-core JWT validation, scope checks) versus the
 * same SDK handler with no auth, side by side in one run, interleaved (issue #4; goal: at most 10 %
 * overhead at p50). A real authorization server issues the token. Load: autocannon on loopback.
 * Run: pnpm bench (root) or pnpm --filter @gatehouse/mcp-server bench. BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, obtainToken, startOnFreePort, startProcess } from '@gatehouse/testkit';
import autocannon from 'autocannon';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const [authPort, barePort] = [await freePort(), await freePort()];
const resource = `http://localhost:${authPort}/mcp`;

// Another port when its first was taken meanwhile. LOG_LEVEL=warn prints no "ready at" line, so
// its own socket on the port (listensOn) shows the answer on /readyz is its.
const { issuer, authServer } = await startOnFreePort(async (port) => {
  const issuer = `http://localhost:${port}`;
  const authServer = await startProcess('node', ['--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('../../auth-server/', import.meta.url).pathname,
    env: {
      AUTH_ISSUER: issuer,
      AUTH_STORE: `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-bench-')), 'auth.db')}`,
      AUTH_USERS: 'alice:alice-password',
      AUTH_RESOURCES: JSON.stringify([
        { resource, scopes: ['mcp:tools', 'mcp:admin'], accessTokenTtl: 3600 },
      ]),
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    },
    readyUrl: `${issuer}/readyz`,
    listensOn: port,
  });
  return { issuer, authServer };
});

// A real token: DCR, PKCE, login, consent, code exchange.
const { accessToken } = await obtainToken(issuer, resource, 'mcp:tools');

const servers = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    new URL('./servers.ts', import.meta.url).pathname,
    String(authPort),
    String(barePort),
    issuer,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await once(createInterface({ input: servers.stdout }), 'line');

const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'add_numbers', arguments: { a: 2, b: 3 } },
});
const headers = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
const probe = await fetch(resource, {
  method: 'POST',
  headers: { ...headers, authorization: `Bearer ${accessToken}` },
  body,
});
if (probe.status !== 200)
  throw new Error(`the authenticated server answered ${probe.status}: ${await probe.text()}`);

type Sample = { rps: number; p50: number; p99: number; errors: number; non2xx: number };
async function load(url: string, extraHeaders: Record<string, string>): Promise<Sample> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { ...headers, ...extraHeaders },
    body,
    connections,
    duration: seconds,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

const withAuth: Sample[] = [];
const withoutAuth: Sample[] = [];
await load(resource, { authorization: `Bearer ${accessToken}` }); // warm-up
await load(`http://127.0.0.1:${barePort}/mcp`, {});
for (let round = 0; round < rounds; round++) {
  withAuth.push(await load(resource, { authorization: `Bearer ${accessToken}` }));
  withoutAuth.push(await load(`http://127.0.0.1:${barePort}/mcp`, {}));
}
// Latency at concurrency 1, where queueing does not hide the per-request cost (µs resolution).
async function sequential(
  url: string,
  extraHeaders: Record<string, string>,
  count: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, ...extraHeaders },
      body,
    });
    await response.arrayBuffer();
    times.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return times;
}
const singleAuth: number[] = [];
const singleBare: number[] = [];
for (let round = 0; round < rounds * 2; round++) {
  singleAuth.push(...(await sequential(resource, { authorization: `Bearer ${accessToken}` }, 500)));
  singleBare.push(...(await sequential(`http://127.0.0.1:${barePort}/mcp`, {}, 500)));
}
servers.kill('SIGTERM');
await authServer.stop();

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const summary = (samples: Sample[]) => ({
  rps: median(samples.map((s) => s.rps)),
  p50: median(samples.map((s) => s.p50)),
  p99: median(samples.map((s) => s.p99)),
  failures: samples.reduce((n, s) => n + s.errors + s.non2xx, 0),
});
const a = summary(withAuth);
const b = summary(withoutAuth);
console.log(
  `\nMCP tools/call (add_numbers), ${connections} connections, ${rounds} interleaved rounds of ${seconds} s, Node ${process.version}\n`,
);
console.log('| server | requests/s | p50 (ms) | p99 (ms) | failed requests |');
console.log('|---|---:|---:|---:|---:|');
console.log(
  `| with auth (auth-core JWT, scope checks) | ${a.rps.toFixed(0)} | ${a.p50} | ${a.p99} | ${a.failures} |`,
);
console.log(
  `| without auth (same SDK handler and tools) | ${b.rps.toFixed(0)} | ${b.p50} | ${b.p99} | ${b.failures} |`,
);
console.log(
  `\nthroughput with auth: ${(a.rps / b.rps).toFixed(2)}x (autocannon reports latency in whole ms)`,
);
const pct = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.floor((p / 100) * values.length)] ?? Number.NaN;
const [p50a, p99a, p50b, p99b] = [
  pct(singleAuth, 50),
  pct(singleAuth, 99),
  pct(singleBare, 50),
  pct(singleBare, 99),
];
console.log(`\nconcurrency 1, ${singleAuth.length} requests each, interleaved:`);
console.log('| server | p50 (µs) | p99 (µs) |');
console.log('|---|---:|---:|');
console.log(`| with auth | ${p50a.toFixed(0)} | ${p99a.toFixed(0)} |`);
console.log(`| without auth | ${p50b.toFixed(0)} | ${p99b.toFixed(0)} |`);
console.log(
  `\np50 overhead of auth at concurrency 1: ${(((p50a - p50b) / p50b) * 100).toFixed(1)} % (goal <= 10 %)`,
);
