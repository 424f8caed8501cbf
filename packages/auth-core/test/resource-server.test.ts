import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authenticateNodeRequest, serveProtectedResourceMetadata } from '../src/adapters/node.js';
import {
  createResourceServer,
  type ResourceServer,
  type ResourceServerOptions,
} from '../src/index.js';
import { listen, send } from './support/http.js';
import { recordingLogger, TestIssuer } from './support/test-issuer.js';

const RESOURCE = 'http://localhost:3000/mcp';
const METADATA_URL = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';

let issuer: TestIssuer;
let app: Awaited<ReturnType<typeof listen>>;
let logger: ReturnType<typeof recordingLogger>;
let rs: ResourceServer;

/** A Node http server protected by auth-core: `/mcp` needs mcp:tools, `/mcp/admin` also mcp:admin. */
async function startApp(overrides: Partial<ResourceServerOptions> = {}) {
  rs = createResourceServer({
    resource: RESOURCE,
    issuer: issuer.issuer,
    verification: { mode: 'jwt', jwksUri: issuer.jwksUri },
    scopesSupported: ['mcp:tools', 'mcp:admin', 'offline_access'],
    requiredScopes: ['mcp:tools'],
    scopeHierarchy: { 'mcp:admin': ['mcp:tools'] },
    logger,
    ...overrides,
  });
  app = await listen(async (req, res) => {
    if (serveProtectedResourceMetadata(rs, req, res)) return;
    const auth = await authenticateNodeRequest(rs, req, res);
    if (!auth) return;
    if (req.url?.startsWith('/mcp/admin')) {
      const denied = rs.checkScopes(auth, ['mcp:tools', 'mcp:admin']);
      if (denied) {
        res.writeHead(denied.response.status, denied.response.headers as Record<string, string>);
        res.end(denied.response.body);
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        subject: auth.extra.subject,
        clientId: auth.clientId,
        scopes: auth.scopes,
        type: auth.extra.tokenType,
      }),
    );
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeEach(async () => {
  issuer = await TestIssuer.start({ resource: RESOURCE });
  logger = recordingLogger();
  await startApp();
});
afterEach(async () => {
  await app.close();
  await issuer.close();
});

describe('challenges', () => {
  it('answers a request without credentials with 401, resource_metadata and scope, and no error code', async () => {
    const res = await send(`${app.origin}/mcp`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer scope="mcp:tools", resource_metadata="${METADATA_URL}"`,
    );
    expect(res.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    expect(res.json().error).toBeUndefined();
  });

  it('treats another scheme (Basic) as no credentials', async () => {
    const res = await send(`${app.origin}/mcp`, {
      headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' },
    });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).not.toContain('error=');
  });

  it('answers a bad token with 401 invalid_token and the metadata URL', async () => {
    const res = await send(`${app.origin}/mcp`, { headers: bearer('not-a-jwt') });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer error="invalid_token", error_description="[^"]+", scope="mcp:tools", resource_metadata="/,
    );
  });

  it('answers a missing scope with 403 insufficient_scope listing every scope the operation needs', async () => {
    const res = await send(`${app.origin}/mcp/admin`, { headers: bearer(await issuer.token()) });
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(res.headers['www-authenticate']).toContain('scope="mcp:tools mcp:admin"');
    expect(res.headers['www-authenticate']).toContain(`resource_metadata="${METADATA_URL}"`);
  });

  it('honours the scope hierarchy: mcp:admin implies mcp:tools', async () => {
    const res = await send(`${app.origin}/mcp/admin`, {
      headers: bearer(await issuer.token({ scope: 'mcp:admin' })),
    });
    expect(res.status).toBe(200);
  });

  it('refuses a token whose scopes do not cover the configured required scopes', async () => {
    const res = await send(`${app.origin}/mcp`, {
      headers: bearer(await issuer.token({ scope: 'profile' })),
    });
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('scope="mcp:tools"');
  });

  it('answers 503 with Retry-After and no challenge when the keys cannot be fetched', async () => {
    issuer.jwksAvailable = false;
    const res = await send(`${app.origin}/mcp`, { headers: bearer(await issuer.token()) });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json().error).toBe('temporarily_unavailable');
  });
});

describe('Authorization header (RFC 6750)', () => {
  it('accepts a valid token and hands the claims on', async () => {
    const res = await send(`${app.origin}/mcp`, { headers: bearer(await issuer.token()) });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      subject: 'alice',
      clientId: 'client-1',
      scopes: ['mcp:tools'],
      type: 'Bearer',
    });
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])(
    'accepts the scheme case-insensitively (%s)',
    async (scheme) => {
      const res = await send(`${app.origin}/mcp`, {
        headers: { authorization: `${scheme} ${await issuer.token()}` },
      });
      expect(res.status).toBe(200);
    },
  );

  it('refuses two Authorization headers with 400 invalid_request', async () => {
    const token = await issuer.token();
    const res = await send(`${app.origin}/mcp`, {
      headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] },
    });
    expect(res.status).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it.each([
    ['Bearer', 400],
    ['Bearer a b', 400],
    ['Bearer a,b', 400],
    ['Bearer "quoted"', 400],
    ['Bearer tok en', 400],
    ['Bearer\ttab', 400],
    ['   ', 401], // only whitespace: no credentials at all
  ] as const)('answers the header %j with %i', async (value, status) => {
    const res = await send(`${app.origin}/mcp`, { headers: { authorization: value } });
    expect(res.status).toBe(status);
    if (status === 400) expect(res.json().error).toBe('invalid_request');
  });

  it('refuses a token in the query string, even beside a valid header', async () => {
    const token = await issuer.token();
    for (const headers of [{}, bearer(token)]) {
      const res = await send(`${app.origin}/mcp?access_token=${token}`, { headers });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('refuses an oversized token', async () => {
    const res = await send(`${app.origin}/mcp`, {
      headers: bearer(await issuer.token({ pad: 'x'.repeat(9000) })),
    });
    expect(res.status).toBe(401);
  });
});

describe('token checks through the adapter', () => {
  it('refuses a token issued for another resource', async () => {
    const res = await send(`${app.origin}/mcp`, {
      headers: bearer(await issuer.token({ aud: 'http://localhost:3001/mcp' })),
    });
    expect(res.status).toBe(401);
  });

  it('refuses an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    const res = await send(`${app.origin}/mcp`, {
      headers: bearer(await issuer.token({ iat: past, exp: past + 300 })),
    });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('refuses a token whose signature was tampered with', async () => {
    const [h, p, s] = (await issuer.token()).split('.');
    const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, scope: 'mcp:admin' })).toString('base64url')}.${s}`;
    const res = await send(`${app.origin}/mcp/admin`, { headers: bearer(forged) });
    expect(res.status).toBe(401);
  });
});

describe('logging', () => {
  it('logs the reason with a correlation id the client also receives, and never the token', async () => {
    const token = await issuer.token({ aud: 'http://localhost:3001/mcp' });
    const res = await send(`${app.origin}/mcp?x=1`, {
      headers: { ...bearer(token), 'x-request-id': 'req-42' },
    });
    expect(res.json().correlation_id).toBe('req-42');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.fields).toMatchObject({
      correlationId: 'req-42',
      reason: 'audience_mismatch',
      status: 401,
      path: '/mcp',
    });
    expect(JSON.stringify(logger.lines)).not.toContain(token.split('.')[2]);
  });

  it('never writes a token into a log line or a response, across every kind of failure', async () => {
    const good = await issuer.token();
    const tokens = [
      good,
      await issuer.token({ aud: 'x' }),
      await issuer.token({ iss: 'http://evil' }),
      `${good}x`,
      'opaque-secret-token',
    ];
    const bodies: string[] = [];
    for (const token of tokens) {
      bodies.push((await send(`${app.origin}/mcp/admin`, { headers: bearer(token) })).body);
      bodies.push((await send(`${app.origin}/mcp?access_token=${token}`)).body);
      bodies.push(
        (
          await send(`${app.origin}/mcp`, {
            headers: { authorization: [`Bearer ${token}`, 'Bearer y'] },
          })
        ).body,
      );
    }
    const everything = JSON.stringify(logger.lines) + bodies.join('\n');
    for (const token of tokens) {
      const secretPart = token.includes('.') ? (token.split('.')[2] ?? token) : token;
      expect(everything).not.toContain(secretPart);
    }
    expect(logger.lines.length).toBeGreaterThanOrEqual(tokens.length * 3 - 1);
  });
});

describe('Protected Resource Metadata (RFC 9728)', () => {
  it.each(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'])(
    'is served at %s with the canonical resource',
    async (path) => {
      const res = await send(`${app.origin}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [issuer.issuer],
        scopes_supported: ['mcp:tools', 'mcp:admin'],
        bearer_methods_supported: ['header'],
        dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'],
      });
    },
  );

  it('publishes the resource canonical even when configured with case and a trailing slash', async () => {
    await app.close();
    await startApp({ resource: 'HTTP://LocalHost:3000/mcp/' });
    const res = await send(`${app.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(res.json().resource).toBe(RESOURCE);
    expect(rs.metadataUrls).toEqual({
      pathInserted: METADATA_URL,
      root: 'http://localhost:3000/.well-known/oauth-protected-resource',
    });
  });

  it('answers a CORS preflight', async () => {
    const res = await send(`${app.origin}/.well-known/oauth-protected-resource/mcp`, {
      method: 'OPTIONS',
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-methods']).toContain('GET');
  });
});
