import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createIntrospectionVerifier,
  createTokenVerifier,
  type TokenVerifier,
} from '../src/index.js';
import { TestIssuer } from './support/test-issuer.js';

let issuer: TestIssuer;
let clock: number;
const opaque = 'opaque-token-1';

function activeAnswer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(clock / 1000);
  return {
    active: true,
    iss: issuer.issuer,
    sub: 'alice',
    aud: issuer.resource,
    client_id: 'client-1',
    scope: 'mcp:tools',
    token_type: 'Bearer',
    iat: now - 10,
    exp: now + 300,
    ...overrides,
  };
}

function verifier(
  overrides: Partial<Parameters<typeof createIntrospectionVerifier>[0]> = {},
): TokenVerifier {
  return createIntrospectionVerifier({
    issuer: issuer.issuer,
    audience: issuer.resource,
    introspectionEndpoint: issuer.introspectionEndpoint,
    clientId: 'mcp-server',
    clientSecret: 'mcp-secret',
    now: () => clock,
    ...overrides,
  });
}

beforeEach(async () => {
  issuer = await TestIssuer.start();
  clock = Date.now();
});
afterEach(() => issuer.close());

describe('introspection mode (RFC 7662)', () => {
  it('accepts an active token for this resource and returns its grants', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    const token = await verifier().verify(opaque);
    expect(token).toMatchObject({ subject: 'alice', clientId: 'client-1', scopes: ['mcp:tools'] });
    expect(issuer.introspectionCalls[0]?.form.get('token')).toBe(opaque);
    expect(issuer.introspectionCalls[0]?.form.get('token_type_hint')).toBe('access_token');
  });

  it('authenticates with client_secret_basic, form-urlencoding the credentials first', async () => {
    await issuer.close();
    issuer = await TestIssuer.start({
      introspectionClient: { id: 'mcp server', secret: 'p@ss:word+1' },
    });
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    await verifier({ clientId: 'mcp server', clientSecret: 'p@ss:word+1' }).verify(opaque);
    const call = issuer.introspectionCalls[0];
    expect(call?.authorization).toMatch(/^Basic /);
    expect(call?.form.has('client_secret')).toBe(false);
  });

  it('authenticates with client_secret_post when configured', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    await verifier({ clientAuthMethod: 'client_secret_post' }).verify(opaque);
    const call = issuer.introspectionCalls[0];
    expect(call?.authorization).toBeUndefined();
    expect(call?.form.get('client_id')).toBe('mcp-server');
    expect(call?.form.get('client_secret')).toBe('mcp-secret');
  });

  it('refuses active: false', async () => {
    issuer.introspectionAnswers.set(opaque, { active: false });
    await expect(verifier().verify(opaque)).rejects.toMatchObject({
      error: 'invalid_token',
      reason: 'token_inactive',
    });
  });

  it('refuses a truthy active that is not the boolean true', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer({ active: 'true' }));
    await expect(verifier().verify(opaque)).rejects.toMatchObject({ reason: 'token_inactive' });
  });

  it('refuses an answer whose aud is another resource', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer({ aud: 'http://localhost:3001/mcp' }));
    await expect(verifier().verify(opaque)).rejects.toMatchObject({ reason: 'audience_mismatch' });
  });

  it('refuses an answer without aud', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer({ aud: undefined }));
    await expect(verifier().verify(opaque)).rejects.toMatchObject({ reason: 'missing_audience' });
  });

  it('accepts an aud array containing this resource, canonicalised', async () => {
    issuer.introspectionAnswers.set(
      opaque,
      activeAnswer({ aud: ['account', 'HTTP://LOCALHOST:3000/mcp/'] }),
    );
    await expect(verifier().verify(opaque)).resolves.toBeDefined();
  });

  it('refuses an answer from another issuer', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer({ iss: `${issuer.issuer}/` }));
    await expect(verifier().verify(opaque)).rejects.toMatchObject({ reason: 'issuer_mismatch' });
  });

  it('refuses a refresh token presented as an access token', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer({ token_type: 'refresh_token' }));
    await expect(verifier().verify(opaque)).rejects.toMatchObject({
      reason: 'unsupported_token_type',
    });
  });

  it('refuses an active answer whose exp has passed', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer({ exp: Math.floor(clock / 1000) - 60 }));
    await expect(verifier().verify(opaque)).rejects.toMatchObject({ reason: 'token_expired' });
  });

  it.each([500, 401])('fails closed with 503 when the endpoint answers %i', async (status) => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    issuer.introspectionStatus = status;
    await expect(verifier().verify(opaque)).rejects.toMatchObject({
      error: 'temporarily_unavailable',
      status: 503,
      reason: 'introspection_failed',
    });
  });

  it('fails closed when the endpoint times out', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    issuer.introspectionDelayMs = 500;
    await expect(verifier({ timeoutMs: 100 }).verify(opaque)).rejects.toMatchObject({
      reason: 'introspection_failed',
    });
  });

  it('fails closed when the client credentials are wrong', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    await expect(verifier({ clientSecret: 'wrong' }).verify(opaque)).rejects.toMatchObject({
      reason: 'introspection_failed',
    });
  });

  it('caches an answer briefly and never past the token exp', async () => {
    const exp = Math.floor(clock / 1000) + 20;
    issuer.introspectionAnswers.set(opaque, activeAnswer({ exp }));
    const v = verifier({ cacheTtlSec: 60 });
    await v.verify(opaque);
    await v.verify(opaque);
    expect(issuer.introspectionCalls).toHaveLength(1);
    clock += 31_000; // past exp and leeway, within the 60 s cache TTL
    await expect(v.verify(opaque)).rejects.toMatchObject({ reason: 'token_expired' });
    // The cached answer died with the token, so the endpoint was asked again.
    expect(issuer.introspectionCalls).toHaveLength(2);
  });

  it('tells onCacheLookup whether each answer came from the cache', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    const lookups: boolean[] = [];
    const v = verifier({ cacheTtlSec: 60, onCacheLookup: (hit) => lookups.push(hit) });
    await v.verify(opaque);
    await v.verify(opaque);
    expect(lookups).toEqual([false, true]);
  });

  it('introspects again after the cache TTL', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    const v = verifier({ cacheTtlSec: 5 });
    await v.verify(opaque);
    clock += 6_000;
    issuer.introspectionAnswers.set(opaque, { active: false }); // revoked meanwhile
    await expect(v.verify(opaque)).rejects.toMatchObject({ reason: 'token_inactive' });
    expect(issuer.introspectionCalls).toHaveLength(2);
  });

  it('does not cache when the cache TTL is 0', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    const v = verifier({ cacheTtlSec: 0 });
    await v.verify(opaque);
    await v.verify(opaque);
    expect(issuer.introspectionCalls).toHaveLength(2);
  });

  it('shares one call between concurrent requests for the same token', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    issuer.introspectionDelayMs = 50;
    const v = verifier();
    await Promise.all(Array.from({ length: 10 }, () => v.verify(opaque)));
    expect(issuer.introspectionCalls).toHaveLength(1);
  });

  it('discovers the introspection endpoint when none is configured', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer());
    const v = createTokenVerifier({
      issuer: issuer.issuer,
      audience: issuer.resource,
      verification: { mode: 'introspection', clientId: 'mcp-server', clientSecret: 'mcp-secret' },
      now: () => clock,
    });
    expect(v.mode).toBe('introspection');
    await expect(v.verify(opaque)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('validates a JWT access token by introspection too (same interface as JWT mode)', async () => {
    const jwt = await issuer.token();
    issuer.introspectionAnswers.set(jwt, activeAnswer());
    const modes = [
      createTokenVerifier({
        issuer: issuer.issuer,
        audience: issuer.resource,
        verification: { mode: 'jwt', jwksUri: issuer.jwksUri },
      }),
      createTokenVerifier({
        issuer: issuer.issuer,
        audience: issuer.resource,
        verification: {
          mode: 'introspection',
          introspectionEndpoint: issuer.introspectionEndpoint,
          clientId: 'mcp-server',
          clientSecret: 'mcp-secret',
        },
      }),
    ];
    for (const v of modes)
      await expect(v.verify(jwt)).resolves.toMatchObject({
        subject: 'alice',
        scopes: ['mcp:tools'],
      });
  });
});

describe('introspection time claims', () => {
  it('refuses an active answer whose nbf is in the future', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer({ nbf: Math.floor(clock / 1000) + 120 }));
    await expect(verifier().verify(opaque)).rejects.toMatchObject({
      reason: 'token_not_yet_valid',
    });
  });

  it('refuses an active answer whose iat is in the future', async () => {
    issuer.introspectionAnswers.set(opaque, activeAnswer({ iat: Math.floor(clock / 1000) + 120 }));
    await expect(verifier().verify(opaque)).rejects.toMatchObject({ reason: 'issued_in_future' });
  });
});
