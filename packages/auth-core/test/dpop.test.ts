import { createDpopHolder, createDpopProof, type DpopHolder } from '@gatehouse/testkit';
import { base64url, exportJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateNodeRequest } from '../src/adapters/node.js';
import { createResourceServer } from '../src/index.js';
import { listen, send } from './support/http.js';
import { TestIssuer } from './support/test-issuer.js';

const RESOURCE = 'http://localhost:3000/mcp';

let issuer: TestIssuer;
let app: Awaited<ReturnType<typeof listen>>;
let holder: DpopHolder;
let other: { privateKey: CryptoKey; publicJwk: JWK };

const keyPair = createDpopHolder;

function proof(
  token: string,
  claims: Record<string, unknown> = {},
  key: { privateKey: CryptoKey; publicJwk: JWK } = holder,
  header: Record<string, unknown> = {},
): Promise<string> {
  return createDpopProof(key, token, { htu: RESOURCE, claims, header });
}

async function call(scheme: string, token: string, dpop?: string | string[], method = 'POST') {
  const headers: Record<string, string | string[]> = { authorization: `${scheme} ${token}` };
  if (dpop !== undefined) headers.dpop = dpop;
  return send(`${app.origin}/mcp`, { method, headers });
}

beforeAll(async () => {
  issuer = await TestIssuer.start({ resource: RESOURCE });
  holder = await keyPair();
  other = await keyPair();
  const rs = createResourceServer({
    resource: RESOURCE,
    issuer: issuer.issuer,
    verification: { mode: 'jwt', jwksUri: issuer.jwksUri },
  });
  app = await listen(async (req, res) => {
    const auth = await authenticateNodeRequest(rs, req, res);
    if (!auth) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: auth.extra.tokenType }));
  });
});
afterAll(async () => {
  await app.close();
  await issuer.close();
});

const boundToken = () => issuer.token({ cnf: { jkt: holder.jkt } });

describe('DPoP sender-constrained tokens (RFC 9449)', () => {
  it('accepts a bound token with a valid proof', async () => {
    const token = await boundToken();
    const res = await call('DPoP', token, await proof(token));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ type: 'DPoP' });
  });

  it('refuses a bound token presented as a bearer token, even with a valid proof', async () => {
    const token = await boundToken();
    const res = await call('Bearer', token, await proof(token));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Bearer error="invalid_token"');
    expect(res.headers['www-authenticate']).toContain('DPoP algs=');
  });

  it('refuses a bound token without a proof', async () => {
    const res = await call('DPoP', await boundToken());
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  it('refuses a replayed proof', async () => {
    const token = await boundToken();
    const once = await proof(token);
    expect((await call('DPoP', token, once)).status).toBe(200);
    const replay = await call('DPoP', token, once);
    expect(replay.status).toBe(401);
    expect(replay.json().error).toBe('invalid_dpop_proof');
  });

  it.each([
    ['wrong htu', { htu: 'http://localhost:3000/other' }],
    ['htu of another host', { htu: 'http://evil.example:3000/mcp' }],
    ['wrong htm', { htm: 'GET' }],
    ['stale iat', { iat: Math.floor(Date.now() / 1000) - 600 }],
    ['iat in the future', { iat: Math.floor(Date.now() / 1000) + 600 }],
    ['wrong ath', { ath: base64url.encode(new Uint8Array(32)) }],
    ['no ath', { ath: undefined }],
    ['no jti', { jti: undefined }],
  ])('refuses a proof with %s', async (_name, claims) => {
    const token = await boundToken();
    const res = await call('DPoP', token, await proof(token, claims));
    expect(res.status).toBe(401);
    expect(res.json().error).toBe('invalid_dpop_proof');
  });

  it('accepts an htu that differs only in query string and case of the host', async () => {
    const token = await boundToken();
    const res = await call(
      'DPoP',
      token,
      await proof(token, { htu: 'http://LOCALHOST:3000/mcp?x=1' }),
    );
    expect(res.status).toBe(200);
  });

  it('refuses a proof signed by a key other than the bound one', async () => {
    const token = await boundToken();
    const res = await call('DPoP', token, await proof(token, {}, other));
    expect(res.status).toBe(401);
    expect(res.json().error).toBe('invalid_dpop_proof');
  });

  it('refuses a proof whose typ is not dpop+jwt', async () => {
    const token = await boundToken();
    const res = await call('DPoP', token, await proof(token, {}, holder, { typ: 'JWT' }));
    expect(res.status).toBe(401);
  });

  it('refuses a proof that carries a private key in its header', async () => {
    const token = await boundToken();
    const privateJwk = await exportJWK(holder.privateKey);
    const res = await call(
      'DPoP',
      token,
      await proof(token, {}, { privateKey: holder.privateKey, publicJwk: privateJwk }),
    );
    expect(res.status).toBe(401);
  });

  it('refuses two DPoP headers', async () => {
    const token = await boundToken();
    const res = await call('DPoP', token, [await proof(token), await proof(token)]);
    expect(res.status).toBe(401);
    expect(res.json().error).toBe('invalid_dpop_proof');
  });

  it('refuses the DPoP scheme with a token that is not bound', async () => {
    const token = await issuer.token();
    const res = await call('DPoP', token, await proof(token));
    expect(res.status).toBe(401);
    expect(res.json().error).toBe('invalid_token');
  });

  it('refuses a token with a malformed cnf', async () => {
    const token = await issuer.token({ cnf: { jkt: 42 } });
    const res = await call('DPoP', token, await proof(token));
    expect(res.status).toBe(401);
  });
});
