import { obtainToken } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshChains } from '../src/refresh-chains.js';
import { type BenchServer, MCP_RESOURCE, startAuthServer } from '../src/servers.js';

/**
 * The refresh-grant load's token pool against the real (built) authorization server: the numbers
 * in BENCHMARKS.md are only honest if every request carries a live refresh token and a break is
 * counted, never hidden.
 */
describe('refresh chains (bench load pool) against the real auth-server', () => {
  let server: BenchServer;
  let tokenEndpoint: string;
  let clientId: string;
  let initial: string[];
  const newChain = async () =>
    (await obtainToken(server.issuer, MCP_RESOURCE, 'mcp:tools', undefined, { clientId }))
      .refreshToken;

  beforeAll(async () => {
    server = await startAuthServer();
    tokenEndpoint = `${server.issuer}/token`;
    const first = await obtainToken(server.issuer, MCP_RESOURCE, 'mcp:tools');
    clientId = first.clientId;
    initial = [first.refreshToken, await newChain()];
  }, 60_000);
  afterAll(() => server?.stop());

  const send = async (body: string) => {
    const response = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: response.status, text: await response.text() };
  };

  it('keeps every chain alive: each answer returns a new refresh token to the pool', async () => {
    const pool = refreshChains({ tokenEndpoint, clientId, initial, newChain });
    for (let i = 0; i < 6; i++) {
      // Two connections, one request in flight each, as autocannon runs them.
      const answers = await Promise.all([send(pool.build()), send(pool.build())]);
      for (const { status, text } of answers) {
        expect(status).toBe(200);
        pool.onResponse(status, text);
      }
    }
    expect(pool.size).toBe(2);
    expect(pool.takeBroken()).toBe(0);
  });

  it('counts a failed answer as a broken chain and repair() brings the pool back to size', async () => {
    const pool = refreshChains({ tokenEndpoint, clientId, initial: [await newChain()], newChain });
    // The pooled token is lost on the way (as when a connection is cut); the server refuses the
    // request that arrives instead.
    const taken = new URLSearchParams(pool.build());
    taken.set('refresh_token', 'not-a-refresh-token');
    const refused = await send(taken.toString());
    expect(refused.status).toBe(400);
    pool.onResponse(refused.status, refused.text);
    expect(pool.takeBroken()).toBe(1);
    expect(pool.size).toBe(0);
    expect(await pool.repair(2)).toBe(2);
    expect(pool.size).toBe(2);
    const { status } = await send(pool.build());
    expect(status).toBe(200);
  });
});
