import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
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
