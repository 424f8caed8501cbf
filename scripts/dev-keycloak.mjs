#!/usr/bin/env node
// `npm run dev:keycloak`: the MCP server against a real Keycloak instead of Gatehouse's
// authorization server, configured by `.env.keycloak` alone. Starts Keycloak (infra/keycloak) too
// unless one already answers at AUTH_ISSUER. `AUTH_MODE=introspection npm run dev:keycloak` switches
// the validation mode. Ctrl-C stops what this command started.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { answers, portFreeFor, waitFor } from './local-servers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();

/** KEY=VALUE lines; the environment wins over the file. */
function loadProfile(path) {
  const values = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2].trim();
  }
  return { ...values, ...process.env };
}

const env = loadProfile(`${root}.env.keycloak`);
env.LOG_FORMAT ??= 'pretty';
const issuer = env.AUTH_ISSUER.replace(/\/+$/, '');
const resource = env.MCP_RESOURCE;

if (!(await portFreeFor(resource))) {
  console.error(
    `Port ${new URL(resource).port} (${resource}) is already in use: stop whatever runs there (\`npm run dev\`?) or change MCP_RESOURCE.`,
  );
  process.exit(1);
}

const children = [];
// Each child runs in its own process group (pnpm does not forward signals to its script), so a
// signal reaches the whole tree: pnpm, node, and Keycloak's kc.sh and JVM. Children get no stdin: a
// background process group that reads the terminal would be stopped (SIGTTIN).
// Once: a terminal's Ctrl-C reaches this script and also the root script that started it, which
// passes it on.
let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const child of children.reverse()) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

const discovery = `${issuer}/.well-known/openid-configuration`;
if (!(await answers(discovery))) {
  const { port } = new URL(issuer);
  console.log(`> no Keycloak at ${issuer}: starting one (npm run keycloak)`);
  const keycloak = spawn('pnpm', ['--filter', '@gatehouse/keycloak-runner', 'keycloak'], {
    cwd: root,
    env: { ...env, KEYCLOAK_PORT: port || '8180' },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  children.push(keycloak);
  if (!(await waitFor(discovery, { timeoutMs: 240_000, child: keycloak }))) {
    console.error(`Keycloak did not become ready at ${discovery}`);
    stop('SIGTERM');
    process.exit(1);
  }
}

const mcp = spawn('pnpm', ['--filter', '@gatehouse/mcp-server', 'dev'], {
  cwd: root,
  env,
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
});
children.push(mcp);
mcp.on('exit', (code) => {
  stop('SIGTERM');
  process.exitCode = code ?? 0;
});
if (!(await waitFor(`${new URL(resource).origin}/healthz`, { timeoutMs: 60_000, child: mcp })))
  process.exit(1);

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`
┌─ MCP server against Keycloak, ready in ${seconds} s ──────────────────────────────────
│ Keycloak realm   ${issuer}   (admin console: ${new URL(issuer).origin}/admin, admin / admin)
│ MCP server       ${resource}   (AUTH_MODE=${env.AUTH_MODE})
│ Sign in as       alice / alice-password (mcp:tools, mcp:admin) or bob / bob-password
│ Connect a client exactly as with \`npm run dev\`, e.g.
│   claude mcp add --transport http gatehouse ${resource}
│ Ctrl-C stops what this command started.
└──────────────────────────────────────────────────────────────────────────────────`);
