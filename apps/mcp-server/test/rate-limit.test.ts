import {
  freePort,
  type RunningRedis,
  type StartedProcess,
  startRedis,
  waitForOutput,
} from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postMcp,
  type RunningMcpServer,
  startMcpServer,
  startTestIssuer,
  type TestIssuer,
} from './support/stack.js';

/**
 * Per-user and per-client rate limits (auth-core's limiter, MCP_RATE_LIMIT and
 * MCP_CLIENT_RATE_LIMIT) on the real MCP server: 429 with Retry-After once a user or a client has
 * used its quota, other users and clients unaffected, anonymous requests never counted; with
 * MCP_RATE_LIMIT_STORE on one Redis, two instances count together.
 */

let issuer: TestIssuer;
let redis: RunningRedis;
const processes: StartedProcess[] = [];

beforeAll(async () => {
  [issuer, redis] = await Promise.all([startTestIssuer(), startRedis()]);
});
afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await issuer?.stop();
  await redis?.stop();
});

/** An MCP server for a resource of its own; `tokenFor` signs a token for it. */
async function start(env: Record<string, string>) {
  const resource = `http://localhost:${await freePort()}/mcp`;
  const server = await startMcpServer(issuer.issuer, resource, env);
  processes.push(server.process);
  const tokenFor = (sub: string, clientId = 'client-1') =>
    issuer.token(resource, { sub, client_id: clientId });
  return { ...server, tokenFor };
}

const LIST_TOOLS = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

const listTools = (server: RunningMcpServer, token?: string) =>
  postMcp(server.url, token, LIST_TOOLS);

describe('rate limits on the MCP server', () => {
  it('answers 429 with Retry-After once a user, then a client, has used its quota; others go on', async () => {
    const server = await start({ MCP_RATE_LIMIT: '3/1m', MCP_CLIENT_RATE_LIMIT: '5/1m' });
    const token = server.tokenFor;
    const alice = await token('alice');

    // Anonymous requests get their 401 and count against nobody.
    for (let i = 0; i < 6; i++) expect((await listTools(server)).status).toBe(401);

    for (let i = 0; i < 3; i++) {
      const allowed = await listTools(server, alice);
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('ratelimit')).toMatch(/remaining|r=/);
    }
    const refused = await listTools(server, alice);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as { error?: unknown };
    expect(body.error).toBeDefined();
    // Who is hammering is on the audit trail, with the request id the client saw.
    const requestId = refused.headers.get('x-request-id');
    await waitForOutput(server.process, (output) => output.includes('"type":"rate_limited"'));
    const line = server.process
      .output()
      .split('\n')
      .find((entry) => entry.includes('"type":"rate_limited"'));
    expect(JSON.parse(line ?? '{}').audit).toMatchObject({
      type: 'rate_limited',
      outcome: 'denied',
      actor: 'alice',
      client: 'client-1',
      requestId,
      detail: { policy: 'subject' },
    });

    // Another user of the same client still has a quota of their own, until the client's is used.
    const bob = await token('bob');
    expect((await listTools(server, bob)).status).toBe(200);
    expect((await listTools(server, bob)).status).toBe(200);
    expect((await listTools(server, bob)).status).toBe(429);
    // Another client is unaffected.
    expect((await listTools(server, await token('carol', 'client-2'))).status).toBe(200);
  });

  it('counts every instance together through MCP_RATE_LIMIT_STORE on one Redis', async () => {
    const env = { MCP_RATE_LIMIT: '2/1m', MCP_RATE_LIMIT_STORE: redis.url };
    const [one, two] = [await start(env), await start(env)];
    const user = (server: typeof one) => server.tokenFor('shared-user');
    expect((await listTools(one, await user(one))).status).toBe(200);
    expect((await listTools(two, await user(two))).status).toBe(200);
    expect((await listTools(one, await user(one))).status).toBe(429);
    expect((await listTools(two, await user(two))).status).toBe(429);
  });

  it('is off with MCP_RATE_LIMIT=off', async () => {
    const server = await start({ MCP_RATE_LIMIT: 'off' });
    const token = await server.tokenFor('busy');
    for (let i = 0; i < 30; i++) expect((await listTools(server, token)).status).toBe(200);
  });
});
