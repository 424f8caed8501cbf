import { freePort, rawRequest, type StartedProcess, waitForOutput } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postMcp,
  type RunningMcpServer,
  startMcpServer,
  startTestIssuer,
  type TestIssuer,
} from './support/stack.js';

/**
 * The MCP server's HTTP layer as a client meets it (a real process; issuer: an in-test JWKS server):
 * the body limits, JSON errors and the per-tool scope check, and tools/list publishing the scopes
 * the server enforces.
 */

let issuer: TestIssuer;
let server: RunningMcpServer;
let resource: string;
const processes: StartedProcess[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer();
  resource = `http://localhost:${await freePort()}/mcp`;
  server = await startMcpServer(issuer.issuer, resource);
  processes.push(server.process);
});
afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await issuer?.stop();
});

const post = (token: string | undefined, body: string) => postMcp(server.url, token, body);
const call = (name: string, args: Record<string, unknown> = {}) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name, arguments: args },
  });

describe('the JSON-RPC body', () => {
  it('answers 413 for a body over 4 MB, and 400 Parse error for one that is not JSON', async () => {
    const token = await issuer.token(resource);
    const large = await post(token, `{"jsonrpc":"2.0","pad":"${'x'.repeat(4 * 1024 * 1024)}"}`);
    expect(large.status).toBe(413);
    expect((await large.json()).error.message).toBe('Request body too large');
    const garbled = await post(token, '{"jsonrpc": "2.0", "id": 1,');
    expect(garbled.status).toBe(400);
    expect((await garbled.json()).error.code).toBe(-32700);
  });

  it('is not read before the caller is authenticated: 401 while an anonymous body over the limit is still arriving', async () => {
    // Raw, because the answer must come before the body is sent: a fetch that is still writing
    // when the server closes the connection fails with EPIPE (seen under CI load).
    const length = 4 * 1024 * 1024 + 1;
    const { port, pathname } = new URL(server.url);
    const response = await rawRequest(
      Number(port),
      `POST ${pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nContent-Length: ${length}\r\n\r\n{"pad":"xxxx`,
    );
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
    // The rest of the body is not read, so the connection cannot carry another request.
    expect(response.headers.connection).toBe('close');
  });
});

describe('per-tool scopes', () => {
  it('refuses a tool whose scopes the token lacks with 403 insufficient_scope naming them all', async () => {
    const tools = await issuer.token(resource);
    const denied = await post(tools, call('server_status'));
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(denied.headers.get('www-authenticate')).toContain('scope="mcp:tools mcp:admin"');
    const allowed = await post(tools, call('add_numbers', { a: 2, b: 3 }));
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('"sum":5');
    const admin = await issuer.token(resource, { scope: 'mcp:admin' });
    expect((await post(admin, call('server_status'))).status).toBe(200);
  });

  it('publishes in tools/list the scopes it enforces, for every tool', async () => {
    const admin = await issuer.token(resource, { scope: 'mcp:tools mcp:admin' });
    const listed = await post(
      admin,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    );
    const text = await listed.text();
    const json = JSON.parse(text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? ''));
    const published = Object.fromEntries(
      (json.result.tools as Array<{ name: string; _meta?: Record<string, unknown> }>).map(
        (tool) => [tool.name, tool._meta?.['gatehouse/scopes']],
      ),
    );
    expect(published).toEqual({
      add_numbers: ['mcp:tools'],
      multiply_numbers: ['mcp:tools'],
      whoami: ['mcp:tools'],
      server_status: ['mcp:tools', 'mcp:admin'],
    });
    // A token with only mcp:tools is refused exactly the tools published as needing more.
    const tools = await issuer.token(resource);
    for (const [name, scopes] of Object.entries(published)) {
      const status = (await post(tools, call(name, { a: 1, b: 1, x: 1, y: 1 }))).status;
      expect(status, name).toBe((scopes as string[]).includes('mcp:admin') ? 403 : 200);
    }
  });
});

describe('the audit stream', () => {
  it('has one line per tool call: who, which client and grant, the tool, the outcome and duration; never the token or the arguments', async () => {
    const token = await issuer.token(resource, { grant_id: 'grant-audit-1' });
    const response = await post(token, call('add_numbers', { a: 40, b: 2 }));
    expect(response.status).toBe(200);
    await response.text();
    await waitForOutput(server.process, (output) => output.includes('grant-audit-1'));
    const line = server.process
      .output()
      .split('\n')
      .find((entry) => entry.includes('"stream":"audit"') && entry.includes('grant-audit-1'));
    expect(line, server.process.output().slice(-2000)).toBeDefined();
    const { audit } = JSON.parse(line ?? '{}') as { audit: Record<string, unknown> };
    expect(audit).toMatchObject({
      type: 'tool_call',
      outcome: 'success',
      actor: 'alice',
      client: 'client-1',
      grant: 'grant-audit-1',
      requestId: expect.stringMatching(/^[\w-]+$/),
      detail: { tool: 'add_numbers', duration_ms: expect.stringMatching(/^\d+(\.\d)?$/) },
    });
    expect(line).not.toContain(token);
    // The arguments ({ a: 40, b: 2 }) are not there, under any name.
    expect(line).not.toMatch(/"a":|"b":|arguments/);
  });

  it('has the arguments too when the operator asks for them (MCP_AUDIT_ARGUMENTS=true)', async () => {
    const withArguments = await startMcpServer(issuer.issuer, resource, {
      MCP_AUDIT_ARGUMENTS: 'true',
    });
    processes.push(withArguments.process);
    const token = await issuer.token(resource, { grant_id: 'grant-audit-args' });
    const response = await postMcp(withArguments.url, token, call('add_numbers', { a: 40, b: 2 }));
    expect(response.status).toBe(200);
    await response.text();
    await waitForOutput(withArguments.process, (output) => output.includes('grant-audit-args'));
    const line = withArguments.process
      .output()
      .split('\n')
      .find((entry) => entry.includes('"stream":"audit"') && entry.includes('grant-audit-args'));
    expect(JSON.parse(line ?? '{}').audit.detail).toMatchObject({
      tool: 'add_numbers',
      arguments: '{"a":40,"b":2}',
    });
    expect(line).not.toContain(token);
  });
});
