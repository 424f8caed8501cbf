import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateFetchRequest, rateLimitResponse } from '../src/adapters/fetch.js';
import { koaAuth, koaRateLimit } from '../src/adapters/koa.js';
import { authenticateNodeRequest, enforceRateLimit } from '../src/adapters/node.js';
import {
  type AuthInfo,
  createRateLimiter,
  createResourceServer,
  type RateLimiter,
  type RateLimitStore,
  type ResourceServer,
} from '../src/index.js';
import { listen, send } from './support/http.js';
import { TestIssuer } from './support/test-issuer.js';

/**
 * Rate limiting through each adapter, over real HTTP with real tokens: applied only after the token
 * is verified, 429 with Retry-After and the RateLimit fields, per subject and per client, time
 * passing (an injected clock), and 503 when a limiter that fails closed loses its store.
 */

const RESOURCE = 'http://localhost:3000/mcp';
let issuer: TestIssuer;
let rs: ResourceServer;
const clock = { now: Date.now() };

beforeAll(async () => {
  issuer = await TestIssuer.start({ resource: RESOURCE });
  rs = createResourceServer({
    resource: RESOURCE,
    issuer: issuer.issuer,
    // Plain JWTs too, for a Keycloak-style client-credentials token without `sub`.
    verification: { mode: 'jwt', jwksUri: issuer.jwksUri, allowPlainJwt: true },
    requiredScopes: ['mcp:tools'],
  });
});
afterAll(() => issuer.close());

const limiterFor = (store?: RateLimitStore) =>
  createRateLimiter({
    limits: [
      { key: 'subject', limit: 2, windowMs: 60_000 },
      { key: 'client', limit: 4, windowMs: 60_000 },
    ],
    now: () => clock.now,
    ...(store ? { store, onStoreError: 'refuse' as const } : {}),
  });

const failingStore: RateLimitStore = {
  consume: () => Promise.reject(new Error('store down')),
  peek: () => Promise.reject(new Error('store down')),
};

const JSON_RPC = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const call = (url: string, token?: string, requestId?: string) =>
  send(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(requestId ? { 'x-request-id': requestId } : {}),
    },
    body: JSON_RPC,
  });

type App = Awaited<ReturnType<typeof listen>>;

/** The same behaviour through every adapter; `start(limiter)` serves `/mcp` behind it. */
function itRateLimits(start: (limiter: RateLimiter) => Promise<App>) {
  let app: App;
  let closedApp: App;
  beforeAll(async () => {
    app = await start(limiterFor());
    closedApp = await start(limiterFor(failingStore));
  });
  afterAll(async () => {
    await app.close();
    await closedApp.close();
  });
  const user = (client = `client-${randomUUID()}`) =>
    issuer.token({ sub: `user-${randomUUID()}`, client_id: client });

  it('answers 429 with Retry-After, the RateLimit fields and a JSON error past the subject limit', async () => {
    const token = await user();
    const first = await call(`${app.origin}/mcp`, token);
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"subject";q=2;w=60, "client";q=4;w=60');
    expect(first.headers.ratelimit).toBe('"subject";r=1;t=30, "client";r=3;t=15');
    expect((await call(`${app.origin}/mcp`, token)).status).toBe(200);
    const refused = await call(`${app.origin}/mcp`, token, 'req-429');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.headers.ratelimit).toBe('"subject";r=0;t=30, "client";r=2;t=15');
    expect(refused.headers['www-authenticate']).toBeUndefined();
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    const body = refused.json();
    expect(body).toMatchObject({
      error: 'rate_limit_exceeded',
      error_description: 'Too many requests; retry in 30 seconds',
    });
    expect(typeof body.correlation_id).toBe('string');
    expect(refused.body).not.toContain(token);
  });

  it('lets the caller through again once the interval has passed', async () => {
    const token = await user();
    await call(`${app.origin}/mcp`, token);
    await call(`${app.origin}/mcp`, token);
    expect((await call(`${app.origin}/mcp`, token)).status).toBe(429);
    clock.now += 30_000;
    expect((await call(`${app.origin}/mcp`, token)).status).toBe(200);
    expect((await call(`${app.origin}/mcp`, token)).status).toBe(429);
  });

  it('limits a client across its users, and not other clients', async () => {
    const client = `client-${randomUUID()}`;
    for (let i = 0; i < 4; i++) {
      expect((await call(`${app.origin}/mcp`, await user(client))).status).toBe(200);
    }
    const refused = await call(`${app.origin}/mcp`, await user(client));
    expect(refused.status).toBe(429);
    expect(refused.headers.ratelimit).toMatch(/"client";r=0;t=15$/);
    expect((await call(`${app.origin}/mcp`, await user())).status).toBe(200);
  });

  it('limits a client-credentials token (no sub) by its client', async () => {
    // Keycloak's shape: a plain JWT naming its client in `azp`; undefined claims are left out.
    const claims: Record<string, unknown> = { sub: undefined, client_id: undefined };
    const service = await issuer.token({ ...claims, azp: `svc-${randomUUID()}` }, { typ: 'JWT' });
    expect((await call(`${app.origin}/mcp`, service)).status).toBe(200);
    expect((await call(`${app.origin}/mcp`, service)).status).toBe(200);
    expect((await call(`${app.origin}/mcp`, service)).status).toBe(429);
  });

  it('answers requests without a valid token 401 as before, and counts them against no one', async () => {
    const client = `client-${randomUUID()}`;
    const token = await user(client);
    for (let i = 0; i < 5; i++) {
      expect((await call(`${app.origin}/mcp`)).status).toBe(401);
      const forged = `${token.slice(0, -4)}AAAA`;
      const bad = await call(`${app.origin}/mcp`, forged);
      expect(bad.status).toBe(401);
      expect(bad.headers.ratelimit).toBeUndefined();
    }
    const ok = await call(`${app.origin}/mcp`, token);
    expect(ok.status).toBe(200);
    expect(ok.headers.ratelimit).toBe('"subject";r=1;t=30, "client";r=3;t=15');
  });

  it('answers 503 when a limiter that fails closed cannot reach its store', async () => {
    const res = await call(`${closedApp.origin}/mcp`, await user());
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error).toBe('temporarily_unavailable');
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => resolve(body));
  });
}

describe('koa: koaRateLimit after koaAuth', () => {
  itRateLimits((limiter) => {
    const koa = new Koa();
    koa.use(koaAuth(rs));
    koa.use(koaRateLimit(limiter));
    koa.use((ctx) => {
      ctx.body = { subject: (ctx.state.auth as AuthInfo).extra.subject };
    });
    return listen(koa.callback());
  });

  it('names the X-Request-Id in the 429 body', async () => {
    const koa = new Koa();
    koa.use(koaAuth(rs));
    koa.use(koaRateLimit(createRateLimiter({ key: 'subject', limit: 1, windowMs: 60_000 })));
    koa.use((ctx) => {
      ctx.body = {};
    });
    const app = await listen(koa.callback());
    try {
      const token = await issuer.token({ sub: `user-${randomUUID()}` });
      await call(`${app.origin}/mcp`, token);
      const refused = await call(`${app.origin}/mcp`, token, 'req-abc');
      expect(refused.json().correlation_id).toBe('req-abc');
    } finally {
      await app.close();
    }
  });

  it('tells onRefused of each refusal, with its policy and correlation id, and of nothing else', async () => {
    const refusals: string[] = [];
    const koa = new Koa();
    koa.use(koaAuth(rs));
    koa.use(
      koaRateLimit(createRateLimiter({ key: 'subject', limit: 1, windowMs: 60_000 }), {
        onRefused: (ctx, decision, correlationId) =>
          refusals.push(
            `${ctx.status} ${'policy' in decision ? decision.policy : ''} ${correlationId}`,
          ),
      }),
    );
    koa.use((ctx) => {
      ctx.body = {};
    });
    const app = await listen(koa.callback());
    try {
      const token = await issuer.token({ sub: `user-${randomUUID()}` });
      await call(`${app.origin}/mcp`, token, 'req-1');
      await call(`${app.origin}/mcp`, token, 'req-2');
      expect(refusals).toEqual(['429 subject req-2']);
    } finally {
      await app.close();
    }
  });
});

describe('node: enforceRateLimit after authenticateNodeRequest', () => {
  itRateLimits((limiter) =>
    listen(async (req: IncomingMessage, res: ServerResponse) => {
      const auth = await authenticateNodeRequest(rs, req, res);
      if (!auth || !(await enforceRateLimit(limiter, auth, res))) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ subject: auth.extra.subject }));
    }),
  );
});

describe('fetch: rateLimitResponse after authenticateFetchRequest', () => {
  itRateLimits((limiter) =>
    listen(async (req, res) => {
      const body = req.method === 'GET' ? undefined : await readBody(req);
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers.append(req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '');
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const response = await (async () => {
        const result = await authenticateFetchRequest(rs, request);
        if (result instanceof Response) return result;
        const responseHeaders = new Headers({ 'content-type': 'application/json' });
        return (
          (await rateLimitResponse(limiter, result, { headers: responseHeaders })) ??
          new Response(JSON.stringify({ subject: result.extra.subject }), {
            headers: responseHeaders,
          })
        );
      })();
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(await response.text());
    }),
  );
});
