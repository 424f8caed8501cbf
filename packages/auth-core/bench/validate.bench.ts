/**
 * Token validation, side by side with the same key and token (issue #2):
 *   (a) raw jose.jwtVerify with a local key,
 *   (b) auth-core JWT mode with a warm JWKS cache (and the full authenticate() path),
 *   (c) auth-core introspection mode against a real local introspection endpoint, no cache.
 * Run: pnpm bench (or pnpm --filter @gatehouse/auth-core bench). Options: BENCH_ROUNDS, BENCH_ROUND_MS.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { bench, markdownTable } from '@gatehouse/testkit';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import {
  createIntrospectionVerifier,
  createJwtVerifier,
  createResourceServer,
} from '../src/index.js';

const ISSUER = 'http://127.0.0.1/bench-issuer';
const RESOURCE = 'http://localhost:3000/mcp';

const { privateKey, publicKey } = await generateKeyPair('RS256');
const kid = 'bench-1';
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
const now = Math.floor(Date.now() / 1000);
const claims = {
  iss: ISSUER,
  sub: 'alice',
  aud: RESOURCE,
  client_id: 'client-1',
  scope: 'mcp:tools',
  iat: now,
  exp: now + 3600,
  jti: randomUUID(),
};
const token = await new SignJWT(claims)
  .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
  .sign(privateKey);

// The JWKS over real HTTP, fetched once by auth-core (warm cache afterwards).
const jwksServer = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(jwks));
});
jwksServer.listen(0, '127.0.0.1');
await once(jwksServer, 'listening');
const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;

const child = spawn(
  process.execPath,
  [new URL('./introspection-server.mjs', import.meta.url).pathname],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
const introspectionOrigin = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
await fetch(`${introspectionOrigin}/register`, {
  method: 'POST',
  body: JSON.stringify({ token, claims }),
});

// (b) measures verification itself: the verified-token cache is off. (b'') is the default, cache on.
const jwtVerifier = createJwtVerifier({
  issuer: ISSUER,
  audience: RESOURCE,
  jwksUri,
  algorithms: ['RS256'],
  verifiedTokenCacheSize: 0,
});
await jwtVerifier.warm();
const cachingVerifier = createJwtVerifier({
  issuer: ISSUER,
  audience: RESOURCE,
  jwksUri,
  algorithms: ['RS256'],
});
await cachingVerifier.warm();
const resourceServer = createResourceServer({
  resource: RESOURCE,
  issuer: ISSUER,
  verification: { mode: 'jwt', jwksUri, algorithms: ['RS256'], verifiedTokenCacheSize: 0 },
  requiredScopes: ['mcp:tools'],
});
await resourceServer.verifier.warm();
const introspectionVerifier = createIntrospectionVerifier({
  issuer: ISSUER,
  audience: RESOURCE,
  introspectionEndpoint: `${introspectionOrigin}/introspect`,
  clientId: 'bench-rs',
  clientSecret: 'bench-secret',
  cacheTtlSec: 0,
});
const authorization = [`Bearer ${token}`];
const introspectionBody = new URLSearchParams({
  token,
  token_type_hint: 'access_token',
}).toString();
const basic = `Basic ${Buffer.from('bench-rs:bench-secret').toString('base64')}`;
async function bareIntrospection(): Promise<unknown> {
  const response = await fetch(`${introspectionOrigin}/introspect`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: introspectionBody,
  });
  return response.json();
}

// Fail loudly rather than measure a path that rejects.
await jwtVerify(token, publicKey, { issuer: ISSUER, audience: RESOURCE, algorithms: ['RS256'] });
await jwtVerifier.verify(token);
await introspectionVerifier.verify(token);
const probe = await resourceServer.authenticate({ method: 'POST', url: '/mcp', authorization });
if (!probe.ok) throw new Error(`authenticate() refused the bench token: ${probe.error?.reason}`);

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const roundMs = Number(process.env.BENCH_ROUND_MS ?? 1500);
const results = await bench(
  [
    {
      name: '(a) jose.jwtVerify, local key',
      run: () =>
        jwtVerify(token, publicKey, { issuer: ISSUER, audience: RESOURCE, algorithms: ['RS256'] }),
    },
    { name: '(b) auth-core JWT mode, warm JWKS', run: () => jwtVerifier.verify(token) },
    {
      name: "(b'') auth-core JWT mode, same token again (verified-token cache, the default)",
      run: () => cachingVerifier.verify(token),
    },
    {
      name: "(b') auth-core authenticate(), header to AuthInfo",
      run: () => resourceServer.authenticate({ method: 'POST', url: '/mcp', authorization }),
    },
    {
      name: '(c) auth-core introspection mode, no cache',
      run: () => introspectionVerifier.verify(token),
    },
    // The floor under (c): the same HTTP exchange with no validation at all.
    { name: '(d) bare fetch of the same introspection request', run: bareIntrospection },
  ],
  { rounds, roundMs, warmupMs: 1000 },
);

const [a, b, , , c] = results;
console.log(
  `\nToken validation, RS256 2048-bit, ${rounds} interleaved rounds of ${roundMs} ms per case, Node ${process.version}\n`,
);
console.log(markdownTable(results, results[0]?.name ?? '', 'validations/s'));
if (a && b && c) {
  console.log(`\n(b)/(a) throughput: ${(b.opsPerSec / a.opsPerSec).toFixed(2)}x (goal >= 0.9x)`);
  console.log(`(b)/(c) throughput: ${(b.opsPerSec / c.opsPerSec).toFixed(1)}x (goal >= 20x)`);
  const d = results[5];
  if (d)
    console.log(
      `(c)/(d) throughput: ${(c.opsPerSec / d.opsPerSec).toFixed(2)}x (auth-core's share of introspection time)`,
    );
}
child.kill('SIGTERM');
jwksServer.close();
