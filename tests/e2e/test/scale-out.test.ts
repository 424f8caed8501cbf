import {
  freePort,
  HeadlessOAuthProvider,
  type RoundRobinProxy,
  type RunningRedis,
  type StartedProcess,
  startApp,
  startOnFreePort,
  startRedis,
  startRoundRobinProxy,
} from '@gatehouse/testkit';
import { type Client, UnauthorizedError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';

/**
 * Scale-out as a user would run it: two authorization servers on one Redis and two MCP servers,
 * each pair behind a round-robin load balancer on the issuer's and the resource's port. A real SDK
 * client authorizes and calls tools with every request landing on the next instance; then one
 * instance of each is killed and the client carries on through the others.
 */

let redis: RunningRedis;
let issuer: string;
let mcpUrl: string;
const proxies: RoundRobinProxy[] = [];
const authServers: StartedProcess[] = [];
const mcpServers: StartedProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const [issuerPort, mcpPort] = [await freePort(), await freePort()];
  issuer = `http://localhost:${issuerPort}`;
  mcpUrl = `http://localhost:${mcpPort}/mcp`;
  // Each instance listens on a port of its own (another one when that was taken meanwhile); the
  // load balancers learn the ports the instances got.
  const instance = (
    app: 'auth-server' | 'mcp-server',
    env: Record<string, string>,
  ): Promise<{ port: number; process: StartedProcess }> =>
    startOnFreePort(async (port) => ({ port, process: await startApp(app, { port, env }) }));
  const authPorts: number[] = [];
  for (let i = 0; i < 2; i++) {
    const started = await instance('auth-server', {
      AUTH_ISSUER: issuer,
      AUTH_STORE: redis.url,
      AUTH_USERS: 'alice:alice-password',
      AUTH_RESOURCES: JSON.stringify([
        { resource: mcpUrl, scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'] },
      ]),
      LOG_FORMAT: 'json',
    });
    authServers.push(started.process);
    authPorts.push(started.port);
  }
  // The load balancer in front of the issuer first: the MCP servers discover it as they start.
  proxies.push(await startRoundRobinProxy(issuerPort, authPorts));
  const mcpPorts: number[] = [];
  for (let i = 0; i < 2; i++) {
    const started = await instance('mcp-server', {
      MCP_RESOURCE: mcpUrl,
      AUTH_ISSUER: issuer,
      LOG_FORMAT: 'json',
    });
    mcpServers.push(started.process);
    mcpPorts.push(started.port);
  }
  proxies.push(await startRoundRobinProxy(mcpPort, mcpPorts));
}, 120_000);

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all([...mcpServers, ...authServers].map((server) => server.stop()));
  await redis?.stop();
});

async function connectAuthorized(provider: HeadlessOAuthProvider): Promise<Client> {
  try {
    return await connectV2(mcpUrl, provider);
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.callbackParams) throw error;
    await finishAuthV2(mcpUrl, provider);
    return connectV2(mcpUrl, provider);
  }
}

describe('two authorization servers on Redis and two MCP servers behind load balancers', () => {
  it('authorizes and calls tools with requests spread over every instance, and survives losing one of each', async () => {
    const provider = new HeadlessOAuthProvider({
      issuer,
      login: { username: 'alice', password: 'alice-password' },
    });
    const client = await connectAuthorized(provider);
    for (let i = 0; i < 4; i++) {
      const sum = await client.callTool({ name: 'add_numbers', arguments: { a: i, b: 1 } });
      expect(sum.structuredContent).toEqual({ sum: i + 1 });
    }
    const [authProxy, mcpProxy] = proxies as [RoundRobinProxy, RoundRobinProxy];
    // Every instance took part: discovery, registration, login, consent and token hopped between them.
    for (const count of [...authProxy.served.values(), ...mcpProxy.served.values()])
      expect(count).toBeGreaterThan(0);

    await authServers[0]?.stop('SIGKILL');
    await mcpServers[0]?.stop('SIGKILL');
    const product = await client.callTool({ name: 'multiply_numbers', arguments: { x: 6, y: 7 } });
    expect(product.structuredContent).toEqual({ product: 42 });
    // A refresh (issued by either instance) still works through the survivor.
    const refreshed = await fetch(`${issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: String(provider.clientInformation()?.client_id),
        refresh_token: String(provider.refreshToken),
      }),
    });
    expect(refreshed.status).toBe(200);
    // A new client signs in entirely through the surviving instances.
    const second = await connectAuthorized(
      new HeadlessOAuthProvider({
        issuer,
        login: { username: 'alice', password: 'alice-password' },
      }),
    );
    expect((await second.listTools()).tools.length).toBeGreaterThan(0);
    await Promise.all([client.close(), second.close()]);
  });
});
