import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPkce, linkHref, UserAgent, waitForOutput } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApp } from './support/run.js';
import {
  MCP_RESOURCE,
  REDIRECT_URI,
  type RunningServer,
  register,
  startAuthServer,
} from './support/server.js';

/**
 * Upstream providers that misbehave, which no real provider can be made to do on demand: stand-in
 * upstreams (plain HTTP servers in this test) that answer garbage, or never answer. The sign-in
 * must end on a clear page within the configured timeout, with a log line naming the request id
 * and the failure, and never a 500. (A real Keycloak that is down: tests/e2e federation.test.ts.)
 */

let garbage: Server;
let silent: Server;
let server: RunningServer;
const originOf = (listening: Server) =>
  `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;

beforeAll(async () => {
  garbage = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>this is not a discovery document</html>');
  });
  // Accepts connections and never answers.
  silent = createServer(() => {});
  for (const listening of [garbage, silent]) {
    listening.listen(0, '127.0.0.1');
    await once(listening, 'listening');
  }
  const upstream = (id: string, name: string, issuer: string) => ({
    id,
    name,
    issuer,
    client_id: 'gatehouse',
    client_secret: 'upstream-secret-value',
    timeout: 1,
  });
  server = await startAuthServer({
    AUTH_FEDERATION: JSON.stringify([
      upstream('garbage', 'Garbage SSO', originOf(garbage)),
      upstream('silent', 'Silent SSO', originOf(silent)),
    ]),
  });
});

afterAll(async () => {
  await server?.process.stop();
  for (const listening of [garbage, silent]) {
    listening?.closeAllConnections();
    listening?.close();
  }
});

/** From an authorization request to the page after "Continue with <name>". */
async function continueWith(name: string) {
  const clientId = (await register(server.issuer)).body.client_id;
  const url = new URL(`${server.issuer}/auth`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'mcp:tools',
    resource: MCP_RESOURCE,
    state: 'failures',
    code_challenge: createPkce().challenge,
    code_challenge_method: 'S256',
  }).toString();
  const userAgent = new UserAgent();
  const atCallback = (target: string) => target.startsWith(REDIRECT_URI);
  const login = await userAgent.navigate(url.href, atCallback);
  // The local users' form first, then one link per upstream.
  expect(login.body).toContain('name="password"');
  const href = linkHref(login.body, `Continue with ${name}`, login.url);
  expect(href, login.body).toBeDefined();
  return userAgent.navigate(href ?? '', atCallback);
}

describe('an upstream that misbehaves', () => {
  it('answering garbage: the sign-in page again, 502, and a warning with the request id', async () => {
    const page = await continueWith('Garbage SSO');
    expect(page.status).toBe(502);
    expect(page.body).toContain(
      'Sign-in with Garbage SSO did not complete. Try again, or sign in with your password.',
    );
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    // The answer can arrive before the server's log line is read from its pipe.
    await waitForOutput(server.process, (output) => output.includes('"upstream":"garbage"'));
    const line = server.process
      .output()
      .split('\n')
      .find((entry) => entry.includes('upstream sign-in could not start'));
    expect(line).toMatch(/"requestId":"[\w-]+".*"upstream":"garbage","failure":"invalid"/);
  });

  it('never answering: the sign-in page within the timeout, 503, "cannot be reached"', async () => {
    const started = Date.now();
    const page = await continueWith('Silent SSO');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(page.status).toBe(503);
    expect(page.body).toContain('Silent SSO cannot be reached right now.');
    await waitForOutput(server.process, (output) => output.includes('"upstream":"silent"'));
    expect(server.process.output()).toMatch(
      /"upstream":"silent","failure":"unavailable","detail":"OAUTH_TIMEOUT"/,
    );
    expect(server.process.output()).not.toContain('upstream-secret-value');
  });

  it('a callback with an unknown or replayed state: a clear 400 page, no 500', async () => {
    const page = await new UserAgent().request(
      `${server.issuer}/federation/callback?code=abc&state=never-issued`,
    );
    expect(page.status).toBe(400);
    expect(page.body).toContain('This sign-in has expired or was already completed.');
  });

  it('stops startup, naming AUTH_FEDERATION and the fix, for an upstream without credentials', async () => {
    const result = await runApp('src/main.ts', [], {
      env: {
        AUTH_STORE: 'memory',
        AUTH_PORT: '0',
        AUTH_FEDERATION: JSON.stringify([
          { id: 'corp', name: 'Corp', issuer: 'https://sso.example.com', client_id: 'g' },
        ]),
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'AUTH_FEDERATION: upstream corp: needs exactly one of client_secret and private_key_jwk',
    );
  });
});
