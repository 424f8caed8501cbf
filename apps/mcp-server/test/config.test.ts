import { spawnSync } from 'node:child_process';
import { freePort, undocumentedNames } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';
import { createOriginMatcher } from '../src/http/origins.js';

const cwd = new URL('..', import.meta.url).pathname;

describe('configuration', () => {
  it('defaults to the bundled stack', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      resource: 'http://localhost:3000/mcp',
      port: 3000,
      bind: '127.0.0.1',
      issuer: 'http://localhost:4000',
      audience: ['http://localhost:3000/mcp'],
      mode: 'jwt',
      allowPlainJwt: false,
    });
  });

  it('keeps DPoP proofs in memory unless MCP_DPOP_REPLAY_STORE names a Redis', () => {
    expect(loadConfig({}).dpopReplayStore).toEqual({ kind: 'memory' });
    expect(loadConfig({ MCP_DPOP_REPLAY_STORE: 'memory' }).dpopReplayStore).toEqual({
      kind: 'memory',
    });
    for (const url of [
      'redis://127.0.0.1:6379',
      'redis://:secret@10.0.0.5:6379/2',
      'rediss://mcp:secret@redis.internal:6380/0',
    ]) {
      expect(loadConfig({ MCP_DPOP_REPLAY_STORE: url }).dpopReplayStore).toEqual({
        kind: 'redis',
        url,
      });
    }
  });

  it("adds tool calls to the authorization server's trail only when MCP_AUDIT_STORE names its store", () => {
    expect(loadConfig({}).auditStore).toBeUndefined();
    for (const store of [
      'sqlite:../auth-server/.data/auth.db',
      'redis://:secret@10.0.0.5:6379/0',
    ]) {
      expect(loadConfig({ MCP_AUDIT_STORE: store }).auditStore).toBe(store);
    }
    // Auditing off: nothing is written anywhere.
    expect(loadConfig({ MCP_AUDIT: 'false', MCP_AUDIT_STORE: 'sqlite:x.db' }).auditStore).toBe(
      undefined,
    );
    for (const bad of ['memory', 'sqlite:', 'postgres://db/audit', 'redis://']) {
      expect(() => loadConfig({ MCP_AUDIT_STORE: bad })).toThrow(/MCP_AUDIT_STORE must be/);
    }
  });

  it('keeps tool-call arguments off the trail unless MCP_AUDIT_ARGUMENTS=true', () => {
    expect(loadConfig({}).auditArguments).toBe(false);
    expect(loadConfig({ MCP_AUDIT_ARGUMENTS: 'true' }).auditArguments).toBe(true);
    expect(() => loadConfig({ MCP_AUDIT_ARGUMENTS: 'sometimes' })).toThrow(/MCP_AUDIT_ARGUMENTS/);
  });

  it('limits each user to 600 requests a minute by default, clients only when asked', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      subject: { limit: 600, windowMs: 60_000 },
      client: undefined,
    });
    expect(
      loadConfig({ MCP_RATE_LIMIT: '20/10s', MCP_CLIENT_RATE_LIMIT: '5000/1h' }).rateLimits,
    ).toEqual({
      subject: { limit: 20, windowMs: 10_000 },
      client: { limit: 5000, windowMs: 3_600_000 },
    });
    expect(loadConfig({ MCP_RATE_LIMIT: 'off' }).rateLimits.subject).toBeUndefined();
    expect(loadConfig({}).rateLimitStore).toEqual({ kind: 'memory' });
    for (const bad of ['600', '0/1m', '10/0s', '10/2d', '10/25h', 'ten/1m', '-1/1m']) {
      expect(() => loadConfig({ MCP_RATE_LIMIT: bad })).toThrow(/MCP_RATE_LIMIT must be/);
    }
    expect(() => loadConfig({ MCP_RATE_LIMIT_STORE: 'postgres://x' })).toThrow(
      /MCP_RATE_LIMIT_STORE must be/,
    );
  });

  it('canonicalises the resource', () => {
    expect(loadConfig({ MCP_RESOURCE: 'HTTP://LOCALHOST:3000/mcp/' }).resource).toBe(
      'http://localhost:3000/mcp',
    );
  });

  it.each([
    [{ MCP_RESOURCE: 'not a url' }, 'MCP_RESOURCE'],
    [
      { MCP_RESOURCE: 'http://mcp.example.com/mcp' },
      'MCP_RESOURCE: plain http is only allowed for loopback hosts',
    ],
    [{ AUTH_MODE: 'magic' }, 'AUTH_MODE must be "jwt" or "introspection"'],
    [
      { AUTH_MODE: 'introspection' },
      'AUTH_INTROSPECTION_CLIENT_ID and AUTH_INTROSPECTION_CLIENT_SECRET are required',
    ],
    [
      { MCP_ALLOWED_ORIGINS: 'localhost:3000' },
      'MCP_ALLOWED_ORIGINS: localhost:3000 is not an origin',
    ],
    [{ AUTH_ISSUER: 'nope' }, 'AUTH_ISSUER must be an absolute http(s) URL'],
    ...[
      'redis',
      'http://127.0.0.1:6379',
      'redis://',
      'redis://h:99999',
      'redis://h:6379/db?x=1',
    ].map((value): [Record<string, string>, string] => [
      { MCP_DPOP_REPLAY_STORE: value },
      'MCP_DPOP_REPLAY_STORE must be "memory" or "redis://[user:password@]host:port[/db]"',
    ]),
  ])('stops on %j with a message naming the variable', (env, message) => {
    const result = spawnSync('node', ['--import', 'tsx', 'src/main.ts'], {
      cwd,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });
});

describe('MCP_DPOP_REPLAY_STORE at startup', () => {
  const start = (env: Record<string, string>) =>
    spawnSync('node', ['--import', 'tsx', 'src/main.ts'], {
      cwd,
      env: { ...process.env, LOG_FORMAT: 'json', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });

  it('never echoes a refused value (a Redis URL may carry a password)', () => {
    const result = start({ MCP_DPOP_REPLAY_STORE: 'redis://:hunter2@cache:6379/not-a-db' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('MCP_DPOP_REPLAY_STORE must be');
    expect(result.stderr + result.stdout).not.toContain('hunter2');
  });

  it('stops when the Redis it names is unreachable, naming the variable', async () => {
    const port = await freePort();
    const result = start({
      MCP_PORT: String(await freePort()),
      MCP_DPOP_REPLAY_STORE: `redis://:hunter2@127.0.0.1:${port}/0`,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      `MCP_DPOP_REPLAY_STORE: cannot connect to Redis at 127.0.0.1:${port} (connect ECONNREFUSED`,
    );
    expect(result.stdout).not.toContain('hunter2');
  });

  it('stops when the Redis MCP_AUDIT_STORE names is unreachable, naming the variable, never its password', async () => {
    const port = await freePort();
    const result = start({
      MCP_PORT: String(await freePort()),
      MCP_AUDIT_STORE: `redis://:hunter2@127.0.0.1:${port}/0`,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      `MCP_AUDIT_STORE: cannot connect to Redis at 127.0.0.1:${port} (connect ECONNREFUSED`,
    );
    expect(result.stdout).toContain('unset MCP_AUDIT_STORE');
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });
});

describe('origin allow-list', () => {
  it('matches exact origins and wildcard ports, nothing else', () => {
    const allowed = createOriginMatcher([
      'https://app.example.com',
      'http://localhost:*',
      'http://[::1]:*',
    ]);
    expect(allowed('https://app.example.com')).toBe(true);
    expect(allowed('https://app.example.com:8443')).toBe(false);
    expect(allowed('http://localhost:6274')).toBe(true);
    expect(allowed('http://localhost')).toBe(true);
    expect(allowed('http://[::1]:5173')).toBe(true);
    expect(allowed('https://localhost:6274')).toBe(false);
    expect(allowed('http://localhost.evil.com:80')).toBe(false);
    expect(allowed('null')).toBe(false);
    expect(createOriginMatcher(['*'])('https://anything.example')).toBe(true);
  });
});

describe('every configuration variable is documented', () => {
  it.each(['README.md', '.env.example'])('in %s', (file) => {
    expect(CONFIG_VARIABLES).toEqual(expect.arrayContaining(['MCP_RESOURCE', 'AUTH_MODE']));
    expect(undocumentedNames(CONFIG_VARIABLES, file)).toEqual([]);
  });
});
