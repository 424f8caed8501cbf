import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownTokenVerifier } from '../src/provider/introspection.js';

/**
 * The verifier introspection and UserInfo use for our own JWTs, given the provider's signing keys
 * (private members included, as the provider holds them). oidc-provider sets no `nbf` on its access
 * tokens, so the end-to-end tests cannot show a token that is not valid yet: this test signs such
 * tokens itself with a key of the same shape.
 */

const ISSUER = 'http://localhost:4000';
const RESOURCE = 'http://localhost:3000/mcp';
let sign: (claims: Record<string, unknown>) => Promise<string>;
let verifier: ReturnType<typeof ownTokenVerifier>;

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  verifier = ownTokenVerifier({ issuer: ISSUER, audiences: [RESOURCE], jwks: { keys: [jwk] } });
  // Claims given win over the defaults (an audience that is not ours, a future nbf).
  sign = (claims) =>
    new SignJWT({
      iss: ISSUER,
      aud: RESOURCE,
      sub: 'alice',
      client_id: 'c1',
      scope: 'mcp:tools',
      jti: crypto.randomUUID(),
      iat: now(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
      .sign(privateKey);
});

const now = () => Math.floor(Date.now() / 1000);

describe('ownTokenVerifier', () => {
  it('accepts a token of ours that is valid now', async () => {
    const verified = await verifier.verify(await sign({ exp: now() + 60 }));
    expect(verified.subject).toBe('alice');
  });

  it('refuses a token not valid yet (nbf) or just expired (exp), with no leeway', async () => {
    await expect(
      verifier.verify(await sign({ exp: now() + 60, nbf: now() + 2 })),
    ).rejects.toThrow();
    await expect(verifier.verify(await sign({ exp: now() - 1 }))).rejects.toThrow();
  });

  it('refuses a token for an audience that is none of our resources', async () => {
    const other = await sign({ aud: 'http://localhost:9999/other', exp: now() + 60 });
    await expect(verifier.verify(other)).rejects.toThrow();
  });
});
