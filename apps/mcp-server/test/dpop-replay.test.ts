import {
  createDpopHolder,
  createDpopProof,
  type DpopHolder,
  freePort,
  type RunningRedis,
  type StartedProcess,
  startRedis,
} from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startMcpServer as startMcpProcess,
  startTestIssuer,
  type TestIssuer,
} from './support/stack.js';

/**
 * DPoP replay across instances, as a load-balanced deployment runs it: MCP server processes (each
 * on its own port, all with the same MCP_RESOURCE, the balancer's URL) trust an issuer that is an
 * in-test JWKS server (test/support/stack.ts). With MCP_DPOP_REPLAY_STORE pointing at one real
 * redis-server, a proof used on one instance is refused on another; with the in-memory default it
 * is not, which is why the variable exists.
 */

const processes: StartedProcess[] = [];
let issuer: TestIssuer;
let holder: DpopHolder;
let redis: RunningRedis;
let resource: string;

/** One MCP server instance for the shared resource; its URL. */
async function startMcpServer(env: Record<string, string> = {}): Promise<string> {
  const server = await startMcpProcess(issuer.issuer, resource, env);
  processes.push(server.process);
  return server.url;
}

/** A DPoP-bound (cnf.jkt) RFC 9068 access token for the resource. */
const boundToken = () => issuer.token(resource, { cnf: { jkt: holder.jkt } });

/** A fresh proof for POST to the resource URI (what the client addresses: the balancer). */
const proof = (token: string) => createDpopProof(holder, token, { htu: resource });

function listTools(instance: string, token: string, dpop: string): Promise<Response> {
  return fetch(instance, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      authorization: `DPoP ${token}`,
      dpop,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
}

async function expectAccepted(response: Response): Promise<void> {
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('add_numbers');
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  holder = await createDpopHolder();
  redis = await startRedis();
  // The load balancer's URL: every instance publishes it, and proofs name it as htu.
  resource = `http://localhost:${await freePort()}/mcp`;
});

afterAll(async () => {
  await Promise.all(processes.map((server) => server.stop()));
  await redis?.stop();
  await issuer?.stop();
});

describe('DPoP replay across MCP server instances (issuer: an in-test JWKS server)', () => {
  it('with MCP_DPOP_REPLAY_STORE=redis://…: a proof used on A is refused on B; a fresh one passes', async () => {
    const [a, b] = await Promise.all([
      startMcpServer({ MCP_DPOP_REPLAY_STORE: redis.url }),
      startMcpServer({ MCP_DPOP_REPLAY_STORE: redis.url }),
    ]);
    const token = await boundToken();
    const once = await proof(token);
    await expectAccepted(await listTools(a ?? '', token, once));

    const replayed = await listTools(b ?? '', token, once);
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
    expect((await replayed.json()).error).toBe('invalid_dpop_proof');

    await expectAccepted(await listTools(b ?? '', token, await proof(token)));
    // And back on A, the proof B just accepted is refused too.
    expect((await listTools(a ?? '', token, once)).status).toBe(401);
  });

  it('without it (in-memory default): the same cross-instance replay is accepted', async () => {
    const [a, b] = await Promise.all([startMcpServer(), startMcpServer()]);
    const token = await boundToken();
    const once = await proof(token);
    await expectAccepted(await listTools(a ?? '', token, once));
    // The gap the shared store closes: B has never seen this proof.
    await expectAccepted(await listTools(b ?? '', token, once));
    // Each instance still refuses a replay against itself.
    expect((await listTools(b ?? '', token, once)).status).toBe(401);
  });

  it('refuses DPoP requests with 503 while Redis is down, and accepts again once it is back', async () => {
    const own = await startRedis();
    const instance = await startMcpServer({ MCP_DPOP_REPLAY_STORE: own.url });
    const token = await boundToken();
    await expectAccepted(await listTools(instance, token, await proof(token)));

    await own.stop();
    const down = await listTools(instance, token, await proof(token));
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect((await down.json()).error).toBe('temporarily_unavailable');

    const back = await startRedis({ port: own.port });
    try {
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        status = (await listTools(instance, token, await proof(token))).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
    } finally {
      await back.stop();
    }
  });
});
