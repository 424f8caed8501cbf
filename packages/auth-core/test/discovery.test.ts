import { afterEach, describe, expect, it } from 'vitest';
import {
  authorizationServerMetadataUrls,
  createTokenVerifier,
  discoverAuthorizationServer,
} from '../src/index.js';
import { TestIssuer } from './support/test-issuer.js';

let issuer: TestIssuer | undefined;
afterEach(() => issuer?.close());

describe('authorization server discovery (MCP 2026-07-28 order)', () => {
  it('lists the path-inserted and path-appended URLs in order for an issuer with a path', () => {
    expect(authorizationServerMetadataUrls('https://as.example.com/realms/mcp')).toEqual([
      'https://as.example.com/.well-known/oauth-authorization-server/realms/mcp',
      'https://as.example.com/.well-known/openid-configuration/realms/mcp',
      'https://as.example.com/realms/mcp/.well-known/openid-configuration',
    ]);
  });

  it('lists the root URLs for an issuer without a path, with or without a trailing slash', () => {
    const expected = [
      'https://as.example.com/.well-known/oauth-authorization-server',
      'https://as.example.com/.well-known/openid-configuration',
    ];
    expect(authorizationServerMetadataUrls('https://as.example.com')).toEqual(expected);
    expect(authorizationServerMetadataUrls('https://as.example.com/')).toEqual(expected);
  });

  it.each([
    ['rfc8414-inserted', '/.well-known/oauth-authorization-server/realms/mcp'],
    ['oidc-inserted', '/.well-known/openid-configuration/realms/mcp'],
    ['oidc-appended', '/realms/mcp/.well-known/openid-configuration'],
  ] as const)('finds metadata served only at the %s URL', async (placement, path) => {
    issuer = await TestIssuer.start({ path: '/realms/mcp', metadataAt: [placement] });
    const metadata = await discoverAuthorizationServer(issuer.issuer);
    expect(metadata.jwks_uri).toBe(issuer.jwksUri);
    expect(issuer.metadataRequests).toEqual([path]);
  });

  it('prefers RFC 8414 when every placement is served', async () => {
    issuer = await TestIssuer.start({ path: '/realms/mcp' });
    await discoverAuthorizationServer(issuer.issuer);
    expect(issuer.metadataRequests).toEqual(['/.well-known/oauth-authorization-server/realms/mcp']);
  });

  it('finds root metadata for an issuer without a path', async () => {
    issuer = await TestIssuer.start();
    const metadata = await discoverAuthorizationServer(issuer.issuer);
    expect(metadata.issuer).toBe(issuer.issuer);
  });

  it('rejects metadata whose issuer differs from the configured one', async () => {
    issuer = await TestIssuer.start({
      path: '/realms/mcp',
      metadataIssuer: 'https://evil.example.com/realms/mcp',
    });
    await expect(discoverAuthorizationServer(issuer.issuer)).rejects.toMatchObject({
      reason: 'metadata_issuer_mismatch',
      status: 503,
    });
  });

  it('rejects metadata whose issuer differs only by a trailing slash', async () => {
    issuer = await TestIssuer.start({ path: '/realms/mcp' });
    await expect(discoverAuthorizationServer(`${issuer.issuer}/`)).rejects.toMatchObject({
      reason: 'metadata_issuer_mismatch',
    });
  });

  it('fails with discovery_failed when no metadata URL answers', async () => {
    issuer = await TestIssuer.start({ path: '/realms/mcp', metadataAt: [] });
    await expect(discoverAuthorizationServer(issuer.issuer)).rejects.toMatchObject({
      reason: 'discovery_failed',
    });
    expect(issuer.metadataRequests).toEqual([]);
  });

  it('takes the JWKS URI from discovered metadata and verifies tokens with it', async () => {
    issuer = await TestIssuer.start({ path: '/realms/mcp' });
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: issuer.resource,
      verification: { mode: 'jwt' },
    });
    const token = await verifier.verify(await issuer.token());
    expect(token.subject).toBe('alice');
    expect(issuer.jwksRequests).toBe(1);
  });

  it('uses an explicitly configured JWKS URI without discovery', async () => {
    issuer = await TestIssuer.start({ path: '/realms/mcp', metadataAt: [] });
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: issuer.resource,
      verification: { mode: 'jwt', jwksUri: issuer.jwksUri },
    });
    await expect(verifier.verify(await issuer.token())).resolves.toBeDefined();
    expect(issuer.metadataRequests).toEqual([]);
  });

  it('fails closed when discovery fails, and does not retry on every request', async () => {
    issuer = await TestIssuer.start({
      path: '/realms/mcp',
      metadataIssuer: 'https://evil.example.com',
    });
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: issuer.resource,
      verification: { mode: 'jwt' },
    });
    const token = await issuer.token();
    for (let i = 0; i < 3; i++) {
      await expect(verifier.verify(token)).rejects.toMatchObject({
        reason: 'metadata_issuer_mismatch',
      });
    }
    expect(issuer.metadataRequests).toHaveLength(1);
  });
});

describe('discovery retries', () => {
  it('picks up an authorization server that starts after the resource server, backing off from 1 s', async () => {
    issuer = await TestIssuer.start({ path: '/realms/mcp' });
    let clock = Date.now();
    const verifier = createTokenVerifier({
      issuer: `${issuer.origin}/realms/late`,
      audience: issuer.resource,
      verification: { mode: 'jwt' },
      now: () => clock,
    });
    const attempts = () =>
      (issuer as TestIssuer).requests.filter((path) => path.includes('.well-known')).length;
    await expect(verifier.warm()).rejects.toMatchObject({ reason: 'discovery_failed' });
    await expect(verifier.warm()).rejects.toMatchObject({ reason: 'discovery_failed' });
    expect(attempts()).toBe(3); // one attempt: three URLs tried
    clock += 1100;
    await expect(verifier.warm()).rejects.toMatchObject({ reason: 'discovery_failed' });
    expect(attempts()).toBe(6); // retried after 1 s
    clock += 1100;
    await expect(verifier.warm()).rejects.toMatchObject({ reason: 'discovery_failed' });
    expect(attempts()).toBe(6); // now backing off 2 s
    clock += 1000;
    await expect(verifier.warm()).rejects.toMatchObject({ reason: 'discovery_failed' });
    expect(attempts()).toBe(9);
  });
});
