import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJwtVerifier, type TokenVerifier } from '../src/index.js';
import { createSigningKey, recordingLogger, TestIssuer } from './support/test-issuer.js';

let issuer: TestIssuer;
let clock: number;
const now = () => clock;

function verifier(overrides: Partial<Parameters<typeof createJwtVerifier>[0]> = {}): TokenVerifier {
  return createJwtVerifier({
    issuer: issuer.issuer,
    audience: issuer.resource,
    jwksUri: issuer.jwksUri,
    jwksCooldownMs: 30_000,
    jwksMaxAgeMs: 600_000,
    now,
    ...overrides,
  });
}

beforeEach(async () => {
  issuer = await TestIssuer.start();
  clock = Date.now();
  issuer.now = now;
});
afterEach(() => issuer.close());

describe('JWKS cache', () => {
  it('fetches the JWKS once and reuses it', async () => {
    const v = verifier();
    for (let i = 0; i < 5; i++) await v.verify(await issuer.token());
    expect(issuer.jwksRequests).toBe(1);
  });

  it('tells onCacheLookup whether each token was already verified', async () => {
    const lookups: boolean[] = [];
    const v = verifier({ onCacheLookup: (hit) => lookups.push(hit) });
    // The cache is dropped whenever the JWKS changes: fetch it first.
    await v.warm();
    const token = await issuer.token();
    await v.verify(token);
    await v.verify(token);
    await v.verify(await issuer.token({ sub: 'someone-else' }));
    expect(lookups).toEqual([false, true, false]);
  });

  it('refetches once for an unknown kid, then refuses it without refetching during the cooldown', async () => {
    const v = verifier();
    await v.verify(await issuer.token());
    clock += 31_000;
    const stranger = await createSigningKey('RS256', 'stranger');
    const forged = await issuer.token({}, { key: stranger });
    await expect(v.verify(forged)).rejects.toMatchObject({ reason: 'unknown_key' });
    expect(issuer.jwksRequests).toBe(2);
    for (let i = 0; i < 10; i++)
      await expect(v.verify(forged)).rejects.toMatchObject({ reason: 'unknown_key' });
    expect(issuer.jwksRequests).toBe(2);
  });

  it('accepts a token signed with a rotated-in key after the JWKS update', async () => {
    const v = verifier();
    await v.verify(await issuer.token());
    const next = await createSigningKey('ES256', 'next');
    issuer.publishedKeys = [...issuer.publishedKeys, next.publicJwk];
    clock += 31_000;
    const claims = await v.verify(await issuer.token({}, { key: next }));
    expect(claims.subject).toBe('alice');
    expect(issuer.jwksRequests).toBe(2);
  });

  it('stops accepting a key removed from the JWKS once the set is refreshed', async () => {
    const v = verifier();
    // Long-lived, so that only the removed key can be the reason for refusing it.
    const old = await issuer.token({ exp: Math.floor(clock / 1000) + 3600 });
    await v.verify(old);
    await v.verify(old); // now also in the verified-token cache, which must not outlive the key
    issuer.publishedKeys = [issuer.ec.publicJwk];
    clock += 700_000; // past maxAge: a background refresh starts
    await v.verify(await issuer.token({}, { key: issuer.ec })).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock += 31_000;
    await expect(v.verify(old)).rejects.toMatchObject({ reason: 'unknown_key' });
  });

  it('keeps working with cached keys while the JWKS endpoint is down', async () => {
    const logger = recordingLogger();
    const v = verifier({ logger });
    await v.verify(await issuer.token());
    issuer.jwksAvailable = false;
    clock += 700_000;
    for (let i = 0; i < 3; i++) await expect(v.verify(await issuer.token())).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(issuer.jwksRequests).toBeGreaterThanOrEqual(2);
    expect(logger.lines.some((l) => l.message.includes('JWKS refresh failed'))).toBe(true);
  });

  it('fails closed with 503 temporarily_unavailable on a cold start with the JWKS endpoint down', async () => {
    issuer.jwksAvailable = false;
    const v = verifier();
    await expect(v.verify(await issuer.token())).rejects.toMatchObject({
      error: 'temporarily_unavailable',
      status: 503,
      reason: 'jwks_unavailable',
    });
  });

  it('refuses a JWKS that answers with a redirect', async () => {
    const v = verifier({ jwksUri: `${issuer.origin}/redirect-to-jwks` });
    await expect(v.verify(await issuer.token())).rejects.toMatchObject({
      reason: 'jwks_unavailable',
    });
  });

  it('shares one JWKS fetch between concurrent first requests', async () => {
    const v = verifier();
    const token = await issuer.token();
    await Promise.all(Array.from({ length: 20 }, () => v.verify(token)));
    expect(issuer.jwksRequests).toBe(1);
  });

  it('tries each key when several share a kid, and still refuses a foreign signature', async () => {
    const first = await createSigningKey('RS256', 'shared');
    const second = await createSigningKey('RS256', 'shared');
    const stranger = await createSigningKey('RS256', 'shared');
    issuer.publishedKeys = [first.publicJwk, second.publicJwk];
    const v = verifier();
    await expect(v.verify(await issuer.token({}, { key: second }))).resolves.toBeDefined();
    await expect(v.verify(await issuer.token({}, { key: stranger }))).rejects.toMatchObject({
      reason: 'invalid_signature',
    });
  });

  it('re-checks the time claims of a token it already verified', async () => {
    const v = verifier();
    const token = await issuer.token({ exp: Math.floor(clock / 1000) + 30 });
    await v.verify(token);
    await v.verify(token); // served from the verified-token cache
    clock += 45_000; // past exp and the 10 s leeway
    await expect(v.verify(token)).rejects.toMatchObject({ reason: 'token_expired' });
  });
});
