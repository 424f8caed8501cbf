import type { IncomingMessage } from 'node:http';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticateFetchRequest,
  protectedResourceMetadataResponse,
  requireScopesResponse,
} from '../src/adapters/fetch.js';
import { koaAuth, koaProtectedResourceMetadata, koaRequireScopes } from '../src/adapters/koa.js';
import { authenticateNodeRequest, requireScopes } from '../src/adapters/node.js';
import { type AuthInfo, createResourceServer, type ResourceServer } from '../src/index.js';
import { listen, send } from './support/http.js';
import { TestIssuer } from './support/test-issuer.js';

const RESOURCE = 'http://localhost:3000/mcp';
/** The step-up case of every adapter: `/admin` needs mcp:admin on top of mcp:tools. */
const ADMIN_SCOPES = ['mcp:tools', 'mcp:admin'];
const scopesForPath = (path: string) => (path.startsWith('/admin') ? ADMIN_SCOPES : []);
let issuer: TestIssuer;
let rs: ResourceServer;

beforeAll(async () => {
  issuer = await TestIssuer.start({ resource: RESOURCE });
  rs = createResourceServer({
    resource: RESOURCE,
    issuer: issuer.issuer,
    verification: { mode: 'jwt', jwksUri: issuer.jwksUri },
    scopesSupported: ['mcp:tools', 'mcp:admin'],
    requiredScopes: ['mcp:tools'],
  });
});
afterAll(() => issuer.close());

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => resolve(body));
  });
}

/** The same step-up behaviour through each adapter's requireScopes (`/admin` needs mcp:admin). */
function itStepsUp(origin: () => string) {
  it('answers 403 insufficient_scope naming every scope the operation needs, and passes a token that has them', async () => {
    const tools = await issuer.token();
    const denied = await send(`${origin()}/admin`, {
      headers: { authorization: `Bearer ${tools}` },
    });
    expect(denied.status).toBe(403);
    expect(denied.json().error).toBe('insufficient_scope');
    expect(denied.headers['www-authenticate']).toContain('scope="mcp:tools mcp:admin"');
    // The token is good for operations that need no more than it has.
    const mcp = await send(`${origin()}/mcp`, { headers: { authorization: `Bearer ${tools}` } });
    expect(mcp.status).toBe(200);
    const admin = await issuer.token({ scope: 'mcp:tools mcp:admin' });
    const allowed = await send(`${origin()}/admin`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(allowed.status).toBe(200);
  });
}

describe('koa adapter (real koa app over HTTP)', () => {
  let app: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const koa = new Koa();
    koa.use(koaProtectedResourceMetadata(rs));
    // Stands in for a body parser that already consumed a form body.
    koa.use(async (ctx, next) => {
      if (ctx.is('application/x-www-form-urlencoded')) {
        (ctx.request as { body?: unknown }).body = Object.fromEntries(
          new URLSearchParams(await readBody(ctx.req)),
        );
      }
      await next();
    });
    koa.use(koaAuth(rs));
    koa.use(koaRequireScopes(rs, (ctx) => scopesForPath(ctx.path)));
    koa.use((ctx) => {
      const auth = ctx.state.auth as AuthInfo;
      ctx.body = {
        subject: auth.extra.subject,
        sdkAuth: (ctx.req as { auth?: AuthInfo }).auth?.clientId,
      };
    });
    app = await listen(koa.callback());
  });
  afterAll(() => app.close());
  itStepsUp(() => app.origin);

  it('passes a valid request on with ctx.state.auth and ctx.req.auth set', async () => {
    const res = await send(`${app.origin}/mcp`, {
      headers: { authorization: `Bearer ${await issuer.token()}` },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ subject: 'alice', sdkAuth: 'client-1' });
  });

  it('answers 401 with the challenge and does not call the next middleware', async () => {
    const res = await send(`${app.origin}/mcp`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('resource_metadata=');
  });

  it('refuses a token sent in a form body', async () => {
    const token = await issuer.token();
    const res = await send(`${app.origin}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${token}`,
    });
    expect(res.status).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it('serves the metadata', async () => {
    const res = await send(`${app.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(res.json().resource).toBe(RESOURCE);
  });
});

describe('fetch adapter (Request/Response, served over HTTP)', () => {
  let app: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    // A minimal Node-to-fetch bridge, as a fetch-based runtime or the MCP SDK v2 Node adapter provides.
    app = await listen(async (req, res) => {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers.append(req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '');
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const response =
        protectedResourceMetadataResponse(rs, request) ??
        (await (async () => {
          const result = await authenticateFetchRequest(rs, request);
          if (result instanceof Response) return result;
          const scopes = scopesForPath(new URL(request.url).pathname);
          return (
            requireScopesResponse(rs, result, scopes) ??
            Response.json({ subject: result.extra.subject })
          );
        })());
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(await response.text());
    });
  });
  afterAll(() => app.close());
  itStepsUp(() => app.origin);

  it('resolves the AuthInfo for a valid request', async () => {
    const res = await send(`${app.origin}/mcp`, {
      headers: { authorization: `Bearer ${await issuer.token()}` },
    });
    expect(res.json()).toEqual({ subject: 'alice' });
  });

  it('returns the 401 Response with the challenge', async () => {
    const res = await send(`${app.origin}/mcp`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('scope="mcp:tools"');
  });

  it('refuses duplicate Authorization headers (joined by Headers into one invalid value)', async () => {
    const token = await issuer.token();
    const res = await send(`${app.origin}/mcp`, {
      headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] },
    });
    expect(res.status).toBe(400);
  });

  it('refuses a token in a form body, reading only a clone', async () => {
    const token = await issuer.token();
    const res = await send(`${app.origin}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `access_token=${token}`,
    });
    expect(res.status).toBe(400);
  });

  it('serves the metadata at the root well-known URL', async () => {
    const res = await send(`${app.origin}/.well-known/oauth-protected-resource`);
    expect(res.json().resource).toBe(RESOURCE);
  });
});

describe('node adapter (node:http server)', () => {
  let app: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    app = await listen(async (req, res) => {
      const auth = await authenticateNodeRequest(rs, req, res);
      if (!auth || !requireScopes(rs, auth, scopesForPath(req.url ?? '/'), res)) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ subject: auth.extra.subject }));
    });
  });
  afterAll(() => app.close());
  itStepsUp(() => app.origin);

  it('passes a valid request, and answers 401 without a token', async () => {
    const ok = await send(`${app.origin}/mcp`, {
      headers: { authorization: `Bearer ${await issuer.token()}` },
    });
    expect(ok.json()).toEqual({ subject: 'alice' });
    expect((await send(`${app.origin}/mcp`)).status).toBe(401);
  });
});
