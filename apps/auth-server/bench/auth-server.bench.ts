/**
 * Authorization server benchmark (issue #3), against the built server (`node dist/main.js`) on
 * loopback, SQLite store:
 *   1. start-to-ready time (first start with key generation, and restart) and resident memory;
 *   2. full flow latency: DCR + authorize + login + consent + token, p50/p99;
 *   3. refresh-grant throughput: independent rotating refresh chains in parallel.
 * Run: pnpm bench (root) or pnpm --filter @gatehouse/auth-server bench.
 * Options: BENCH_FLOWS (default 40), BENCH_REFRESH_SECONDS (10), BENCH_REFRESH_CHAINS (8).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPkce, freePort, parseForms, UserAgent } from '@gatehouse/testkit';

const RESOURCE = 'http://localhost:3000/mcp';
const REDIRECT = 'http://127.0.0.1:33418/callback';
const flows = Number(process.env.BENCH_FLOWS ?? 40);
const refreshSeconds = Number(process.env.BENCH_REFRESH_SECONDS ?? 10);
const chains = Number(process.env.BENCH_REFRESH_CHAINS ?? 8);
const main = new URL('../dist/main.js', import.meta.url).pathname;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => percentile(values, 50);

async function start(dbPath: string, port: number) {
  const started = performance.now();
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      AUTH_ISSUER: `http://localhost:${port}`,
      AUTH_STORE: `sqlite:${dbPath}`,
      AUTH_USERS: 'alice:alice-password',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      AUTH_REGISTRATION_RATE_LIMIT: '100000',
      AUTH_TOKEN_RATE_LIMIT: '1000000',
    },
    stdio: 'ignore',
  });
  // A server that exits or never gets ready stops the bench instead of hanging it.
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`auth-server exited with ${code} before ready`))),
  );
  exited.catch(() => {});
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`http://localhost:${port}/readyz`)).status === 200) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`auth-server not ready on port ${port} within 60 s`);
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5))]);
  }
  return { child, readyMs: performance.now() - started };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function flow(
  issuer: string,
  index: number,
): Promise<{ ms: number; refreshToken: string; clientId: string }> {
  const started = performance.now();
  const reg = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: `Bench ${index}`, redirect_uris: [REDIRECT] }),
  });
  const { client_id: clientId } = (await reg.json()) as { client_id: string };
  const ua = new UserAgent();
  const { verifier, challenge } = createPkce();
  const url = `${issuer}/auth?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', resource: RESOURCE, state: 's' })}`;
  const atCallback = (target: string) => target.startsWith(REDIRECT);
  let page = await ua.navigate(url, atCallback);
  while (!atCallback(page.url)) {
    const form = parseForms(page.body, page.url)[0];
    if (!form) throw new Error(`no form: ${page.status}`);
    page =
      'password' in form.fields
        ? await ua.submit(form, { username: 'alice', password: 'alice-password' }, atCallback)
        : await ua.submit(form, {}, atCallback, 'allow');
  }
  const code = new URL(page.url).searchParams.get('code') ?? '';
  const token = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      resource: RESOURCE,
    }).toString(),
  });
  const body = (await token.json()) as { refresh_token: string };
  return { ms: performance.now() - started, refreshToken: body.refresh_token, clientId };
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const port = await freePort();
const issuer = `http://localhost:${port}`;

// 1. Start-to-ready: five fresh databases (keys generated), then five restarts of the last one.
const fresh: number[] = [];
const restart: number[] = [];
for (let i = 0; i < 5; i++) {
  const { child, readyMs } = await start(join(dir, `fresh-${i}.db`), port);
  fresh.push(readyMs);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}
for (let i = 0; i < 5; i++) {
  const { child, readyMs } = await start(join(dir, 'fresh-4.db'), port);
  restart.push(readyMs);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

// 2 and 3 on one running server.
const { child } = await start(join(dir, 'load.db'), port);
const rssIdle = rssMb(child.pid ?? 0);
const flowTimes: number[] = [];
const refreshTokens: Array<{ token: string; clientId: string }> = [];
for (let i = 0; i < flows; i++) {
  const result = await flow(issuer, i);
  flowTimes.push(result.ms);
  if (refreshTokens.length < chains)
    refreshTokens.push({ token: result.refreshToken, clientId: result.clientId });
}
const rssAfterFlows = rssMb(child.pid ?? 0);

let refreshes = 0;
let errors = 0;
const refreshLatencies: number[] = [];
const deadline = performance.now() + refreshSeconds * 1000;
await Promise.all(
  refreshTokens.map(async (chain) => {
    let token = chain.token;
    while (performance.now() < deadline) {
      const started = performance.now();
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: chain.clientId,
          refresh_token: token,
          resource: RESOURCE,
        }).toString(),
      });
      const body = (await response.json()) as { refresh_token?: string };
      refreshLatencies.push(performance.now() - started);
      if (response.status !== 200 || !body.refresh_token) {
        errors += 1;
        return;
      }
      token = body.refresh_token;
      refreshes += 1;
    }
  }),
);
const rssAfterRefresh = rssMb(child.pid ?? 0);
child.kill('SIGTERM');

const f = (n: number) => n.toFixed(1);
console.log(`\nauth-server benchmark, Node ${process.version}, SQLite store, loopback\n`);
console.log('| measure | p50 / median | p99 / max | n |');
console.log('|---|---:|---:|---:|');
console.log(
  `| start-to-ready, new database (keys generated) | ${f(median(fresh))} ms | ${f(Math.max(...fresh))} ms | ${fresh.length} |`,
);
console.log(
  `| start-to-ready, restart | ${f(median(restart))} ms | ${f(Math.max(...restart))} ms | ${restart.length} |`,
);
console.log(
  `| full flow: DCR + authorize + login + consent + token | ${f(median(flowTimes))} ms | ${f(percentile(flowTimes, 99))} ms | ${flowTimes.length} |`,
);
console.log(
  `| refresh grant latency (${refreshTokens.length} parallel chains) | ${f(median(refreshLatencies))} ms | ${f(percentile(refreshLatencies, 99))} ms | ${refreshLatencies.length} |`,
);
console.log(
  `\nrefresh grant throughput: ${f(refreshes / refreshSeconds)} requests/s (${refreshTokens.length} chains, ${refreshSeconds} s, ${errors} errors)`,
);
console.log(
  `resident memory: ${f(rssIdle)} MB idle after start, ${f(rssAfterFlows)} MB after ${flows} flows, ${f(rssAfterRefresh)} MB after the refresh load`,
);
