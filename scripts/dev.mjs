#!/usr/bin/env node
// `npm run dev`: starts the authorization server and the MCP server with
// reload on change (Turborepo runs every package's `dev` task), waits until both answer, and prints
// one banner with the URLs, the dev user and copy-paste client configuration. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { portFreeFor, waitFor } from './local-servers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();
const env = { ...process.env, LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty' };
const issuer = (env.AUTH_ISSUER ?? 'http://localhost:4000').replace(/\/+$/, '');
const resource = env.MCP_RESOURCE ?? 'http://localhost:3000/mcp';
// The MCP server's tool calls join the authorization server's audit trail (cli audit, the account
// page's "last used"): the same store, its path resolved from the auth server's folder.
const auditStore = env.MCP_AUDIT_STORE ?? auditStoreFor(env.AUTH_STORE ?? 'sqlite:.data/auth.db');
if (auditStore) env.MCP_AUDIT_STORE = auditStore;

function auditStoreFor(store) {
  if (store.startsWith('sqlite:'))
    return `sqlite:${resolve(root, 'apps', 'auth-server', store.slice('sqlite:'.length))}`;
  // AUTH_STORE=memory keeps nothing another process could reach.
  return store.startsWith('redis') ? store : undefined;
}

for (const url of [issuer, resource]) {
  if (!(await portFreeFor(url))) {
    console.error(
      `Port ${new URL(url).port} (${url}) is already in use: stop whatever runs there (another \`npm run dev\`?) or change ${url === issuer ? 'AUTH_ISSUER' : 'MCP_RESOURCE'}.`,
    );
    process.exit(1);
  }
}

// In dev the apps load the packages' TypeScript sources (the `development` export condition), so
// tsx reloads an app when its own code or a package it uses changes, with no build step between.
const turbo = spawn(
  'pnpm',
  ['exec', 'turbo', 'run', 'dev', '--filter=./apps/*', '--output-logs=full'],
  {
    cwd: root,
    env,
    // No stdin: a process group in the terminal's background that reads it would be stopped (SIGTTIN).
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, signalled as a whole: a SIGINT sent to this script alone (not only a
    // terminal's Ctrl-C, which reaches every process) must stop the servers too.
    detached: true,
  },
);
let devUser;
createInterface({ input: turbo.stdout }).on('line', (line) => {
  const match = /Dev user: username "([^"]+)", password "([^"]+)"/.exec(line);
  if (match) devUser = { username: match[1], password: match[2] };
  else process.stdout.write(`${line}\n`);
});

const ready = (url) => waitFor(url, { intervalMs: 50 });

// Once: a terminal's Ctrl-C reaches this script and also the root script that started it, which
// passes it on.
let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-turbo.pid, signal);
  } catch {
    // already gone
  }
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
turbo.on('exit', (code) => process.exit(code ?? 0));

await Promise.all([ready(`${issuer}/readyz`), ready(`${new URL(resource).origin}/healthz`)]);
await new Promise((resolve) => setTimeout(resolve, 100)); // let the dev-user line arrive
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const user = devUser ? `${devUser.username} / ${devUser.password}` : 'the users in AUTH_USERS';
const vscode = JSON.stringify({ servers: { gatehouse: { type: 'http', url: resource } } });
const cursor = JSON.stringify({ mcpServers: { gatehouse: { url: resource } } });
console.log(`
┌─ Gatehouse dev stack ready in ${seconds} s ─────────────────────────────────────────
│ Authorization server  ${issuer}
│ MCP server            ${resource}
│ Sign in as            ${user}
│ Connected apps        ${issuer}/account   (revoke a client's access)
│ Admin console         ${issuer}/admin     (${devUser ? 'the dev user is an admin' : 'accounts in AUTH_ADMINS'})
│
│ VS Code (.vscode/mcp.json):  ${vscode}
│ Claude Code:                 claude mcp add --transport http gatehouse ${resource}
│ Cursor (~/.cursor/mcp.json): ${cursor}
│ MCP Inspector:               npx @modelcontextprotocol/inspector, then Add Servers > Add manually
│                              (Transport streamable-http, URL ${resource}) and switch it on
│ Every client we test, and what each needs: docs/clients.md
│
│ Ctrl-C stops both servers.
└──────────────────────────────────────────────────────────────────────────────────`);
