import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  authorize,
  exchangeCode,
  register,
  startAuthServer,
  tokenRequest,
} from './support/server.js';

const cwd = new URL('..', import.meta.url).pathname;

function runWithEnv(env: Record<string, string>) {
  return spawnSync('node', ['--import', 'tsx', 'src/main.ts'], {
    cwd,
    env: { ...process.env, AUTH_STORE: 'memory', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('process', () => {
  it('keeps clients, grants, refresh tokens and keys across SIGKILL and restart', async () => {
    const first = await startAuthServer();
    const { issuer, dbPath } = first;
    const clientId = (await register(issuer)).body.client_id;
    const tokens = await exchangeCode(issuer, clientId, await authorize(issuer, { clientId }));
    const jwksBefore = await (await fetch(`${issuer}/jwks`)).json();
    expect(await first.process.stop('SIGKILL')).toBe(null);

    const second = await startAuthServer({}, dbPath, Number(new URL(issuer).port));
    try {
      expect(await (await fetch(`${issuer}/jwks`)).json()).toEqual(jwksBefore);
      const refreshed = await tokenRequest(issuer, {
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: String(tokens.body.refresh_token),
      });
      expect(refreshed.status).toBe(200);
      const again = await authorize(issuer, { clientId });
      expect(again.callback.searchParams.get('code')).toBeTruthy();
      // AUTH_USERS is set, so there is no dev user to print.
      expect(second.process.output()).not.toContain('Dev user');
    } finally {
      await second.process.stop();
    }
  });

  it('never writes tokens, codes or passwords to its log', async () => {
    const server = await startAuthServer({ LOG_LEVEL: 'debug' });
    try {
      const clientId = (await register(server.issuer)).body.client_id;
      const result = await authorize(server.issuer, { clientId });
      const tokens = await exchangeCode(server.issuer, clientId, result);
      await tokenRequest(server.issuer, {
        grant_type: 'refresh_token',
        client_id: clientId,
        refresh_token: String(tokens.body.refresh_token),
      });
      const log = server.process.output();
      expect(log).toContain('"path":"/token"');
      for (const secret of [
        String(tokens.body.access_token),
        String(tokens.body.refresh_token),
        result.callback.searchParams.get('code') ?? 'code',
        'alice-password',
      ]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await server.process.stop();
    }
  });

  it.each([
    [{ AUTH_RESOURCES: 'not json' }, 'AUTH_RESOURCES must be JSON'],
    [{ AUTH_RESOURCES: '[{"resource":"mcp","scopes":["a"]}]' }, 'AUTH_RESOURCES[0][resource]'],
    [
      { AUTH_ISSUER: 'http://auth.example.com' },
      'AUTH_ISSUER: plain http is only allowed for loopback issuers',
    ],
    [{ AUTH_ACCESS_TOKEN_TTL: 'ten' }, 'AUTH_ACCESS_TOKEN_TTL must be a number of seconds'],
    [
      { AUTH_REFRESH_REUSE_INTERVAL: '301' },
      'AUTH_REFRESH_REUSE_INTERVAL must be at most 300 seconds',
    ],
    [{ AUTH_REFRESH_REUSE_INTERVAL: '-1' }, 'AUTH_REFRESH_REUSE_INTERVAL must be 0 or more'],
    [
      { AUTH_STORE: 'postgres://x' },
      'AUTH_STORE must be "memory", "sqlite:<path>" or "redis://[user:password@]host:port[/db]"',
    ],
    [{ AUTH_USERS: 'alice' }, 'AUTH_USERS: expected comma-separated username:password pairs'],
    [
      { AUTH_DEFAULT_RESOURCE: 'http://localhost:9/x' },
      'AUTH_DEFAULT_RESOURCE: http://localhost:9/x is not one of AUTH_RESOURCES',
    ],
  ])('stops on bad configuration %j, naming the variable', (env, message) => {
    const result = runWithEnv(env);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  const secret = '0123456789abcdef0123';
  it.each([
    [
      [{ client_id: 'rs', client_secret: secret, response_types: ['code'] }],
      'AUTH_CLIENTS: client "rs": redirect_uris must contain members; give it redirect_uris',
    ],
    [
      [{ client_id: 'rs', client_secret: secret, grant_types: ['implicit'] }],
      'AUTH_CLIENTS: client "rs": grant_types can only contain',
    ],
    [
      [{ client_id: 'rs', token_endpoint_auth_method: 'private_key_jwt' }],
      'AUTH_CLIENTS: client "rs": jwks or jwks_uri is mandatory for this client; give it jwks',
    ],
    [
      [{ client_id: 'rs', token_endpoint_auth_method: 'client_secret_post' }],
      'AUTH_CLIENTS: client "rs": client_secret is mandatory property; give it a client_secret',
    ],
    [
      [{ client_id: 'web', redirect_uris: ['http://app.example.com/cb'] }],
      'AUTH_CLIENTS: client "web": redirect_uris may use plain http only on loopback hosts',
    ],
    [
      [
        {
          client_id: 'web',
          redirect_uris: ['https://app.example.com/cb'],
          response_types: ['token'],
        },
      ],
      'AUTH_CLIENTS: client "web": response_types can only contain',
    ],
    [
      [
        { client_id: 'rs', client_secret: secret },
        { client_id: 'rs', client_secret: secret },
      ],
      'AUTH_CLIENTS: each client needs its own client_id',
    ],
    [[{ client_id: 'rs', client_secret: 'short' }], 'AUTH_CLIENTS[0][client_secret]'],
  ])('stops at startup on a client the server would refuse: %j', (clients, message) => {
    const result = runWithEnv({ AUTH_CLIENTS: JSON.stringify(clients), LOG_FORMAT: 'pretty' });
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain(message);
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a port already in use as such', async () => {
    const server = await startAuthServer();
    try {
      const result = runWithEnv({ AUTH_ISSUER: server.issuer, LOG_FORMAT: 'json' });
      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toContain('is already in use');
    } finally {
      await server.process.stop();
    }
  });

  it('in dev mode without users, keeps one dev user and prints the same credentials at every start', async () => {
    const first = await startAuthServer({ AUTH_USERS: '', AUTH_DEV: 'true' });
    await first.process.stop();
    const line = /Dev user: username "dev", password "([^"]+)"/.exec(first.process.output());
    expect(line).not.toBeNull();
    const second = await startAuthServer(
      { AUTH_USERS: '', AUTH_DEV: 'true' },
      first.dbPath,
      Number(new URL(first.issuer).port),
    );
    try {
      expect(second.process.output()).toContain(
        `Dev user: username "dev", password "${line?.[1]}"`,
      );
      const clientId = (await register(second.issuer)).body.client_id;
      const result = await authorize(second.issuer, {
        clientId,
        username: 'dev',
        password: line?.[1] ?? '',
      });
      expect(result.callback.searchParams.get('code')).toBeTruthy();
      // The password goes to stdout for the developer, never into a JSON log line.
      for (const logLine of second.process
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))) {
        expect(logLine).not.toContain(line?.[1] ?? 'x');
      }
    } finally {
      await second.process.stop();
    }
  });
});
