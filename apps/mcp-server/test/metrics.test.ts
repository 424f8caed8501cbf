import { freePort, metricSample, type StartedProcess } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMcp, startMcpServer, startTestIssuer, type TestIssuer } from './support/stack.js';

/**
 * Prometheus metrics of the MCP server (MCP_METRICS_PORT, MCP_METRICS_TOKEN): bearer checks by
 * result, tool calls by tool and outcome, requests to the authorization server (JWKS) by kind.
 */

const TOKEN = 'scraper-token-0123456789';
let issuer: TestIssuer;
let url: string;
let resource: string;
let metricsPort: number;
const processes: StartedProcess[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer();
  resource = `http://localhost:${await freePort()}/mcp`;
  metricsPort = await freePort();
  const server = await startMcpServer(issuer.issuer, resource, {
    MCP_METRICS_PORT: String(metricsPort),
    MCP_METRICS_TOKEN: TOKEN,
  });
  processes.push(server.process);
  url = server.url;
});
afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await issuer?.stop();
});

const post = (token: string | undefined, body: unknown) => postMcp(url, token, body);
const call = (name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('MCP server metrics', () => {
  it('count bearer checks by result, tool calls by tool and outcome, and JWKS fetches', async () => {
    expect((await post(undefined, call('whoami'))).status).toBe(401);
    expect((await post('not-a-token', call('whoami'))).status).toBe(401);
    const token = await issuer.token(resource);
    expect((await post(token, call('add_numbers', { a: 1, b: 2 }))).status).toBe(200);
    // mcp:tools only: the admin tool is refused for its scope.
    expect((await post(token, call('server_status'))).status).toBe(403);

    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metricSample(text, 'gatehouse_token_validations_total', { result: 'missing' })).toBe(1);
    expect(
      metricSample(text, 'gatehouse_token_validations_total', { result: 'invalid_token' }),
    ).toBe(1);
    expect(metricSample(text, 'gatehouse_token_validations_total', { result: 'accepted' })).toBe(2);
    expect(
      metricSample(text, 'gatehouse_tool_call_duration_seconds_count', {
        tool: 'add_numbers',
        outcome: 'success',
      }),
    ).toBe(1);
    expect(
      metricSample(text, 'gatehouse_tool_call_duration_seconds_count', {
        tool: 'server_status',
        outcome: 'denied',
      }),
    ).toBe(1);
    expect(
      metricSample(text, 'gatehouse_events_total', { type: 'tool_call', outcome: 'success' }),
    ).toBe(1);
    expect(
      metricSample(text, 'gatehouse_upstream_request_duration_seconds_count', {
        kind: 'jwks',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricSample(text, 'gatehouse_http_request_duration_seconds_count', {
        route: 'mcp',
        status: '200',
      }),
    ).toBe(1);
    expect(text).not.toContain(token);
  });

  it("answer on the public port only with the scraper's token", async () => {
    expect((await fetch(url.replace(/\/mcp$/, '/metrics'))).status).toBe(401);
    const answer = await fetch(url.replace(/\/mcp$/, '/metrics'), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('gatehouse_token_validations_total');
  });
});
