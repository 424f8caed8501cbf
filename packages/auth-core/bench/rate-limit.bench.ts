/**
 * What the in-memory rate limiter adds to a verified request: the full authenticate() path (JWT
 * mode, warm JWKS, the default verified-token cache) alone, then followed by the limiter with one
 * rule and with two (subject and client), and the limiter alone; then the same with the signature
 * verified every time (a token not seen before).
 * Run: pnpm --filter @gatehouse/auth-core bench:rate-limit. Options: BENCH_ROUNDS, BENCH_ROUND_MS.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bench, markdownTable } from '@gatehouse/testkit';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { type AuthInfo, createRateLimiter, createResourceServer } from '../src/index.js';

const ISSUER = 'http://127.0.0.1/bench-issuer';
const RESOURCE = 'http://localhost:3000/mcp';

const { privateKey, publicKey } = await generateKeyPair('RS256');
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256' }] };
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({
  sub: 'alice',
  client_id: 'client-1',
  scope: 'mcp:tools',
  jti: 'bench',
})
  .setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'at+jwt' })
  .setIssuer(ISSUER)
  .setAudience(RESOURCE)
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(privateKey);

const jwksServer = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(jwks));
});
jwksServer.listen(0, '127.0.0.1');
await once(jwksServer, 'listening');
const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;

const rs = createResourceServer({
  resource: RESOURCE,
  issuer: ISSUER,
  verification: { mode: 'jwt', jwksUri, algorithms: ['RS256'] },
  requiredScopes: ['mcp:tools'],
});
await rs.verifier.warm();
// The same with every signature verified (verified-token cache off): a token seen for the first time.
const uncached = createResourceServer({
  resource: RESOURCE,
  issuer: ISSUER,
  verification: { mode: 'jwt', jwksUri, algorithms: ['RS256'], verifiedTokenCacheSize: 0 },
  requiredScopes: ['mcp:tools'],
});
await uncached.verifier.warm();
const request = { method: 'POST', url: '/mcp', authorization: [`Bearer ${token}`] };

// Limits no request of the bench can reach: every check is counted and allowed.
const oneRule = createRateLimiter({ key: 'subject', limit: 1e9, windowMs: 86_400_000 });
const twoRules = createRateLimiter({
  limits: [
    { key: 'subject', limit: 1e9, windowMs: 86_400_000 },
    { key: 'client', limit: 1e9, windowMs: 86_400_000 },
  ],
});

async function verified(server = rs): Promise<AuthInfo> {
  const outcome = await server.authenticate(request);
  if (!outcome.ok)
    throw new Error(`authenticate() refused the bench token: ${outcome.error?.reason}`);
  return outcome.authInfo;
}
const authInfo = await verified();
for (const limiter of [oneRule, twoRules]) {
  const outcome = await limiter.enforce(authInfo);
  if (!outcome.ok) throw new Error('the limiter refused the bench request');
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const roundMs = Number(process.env.BENCH_ROUND_MS ?? 1500);
const results = await bench(
  [
    { name: '(a) authenticate()', run: () => verified() },
    {
      name: '(b) authenticate() + limiter, subject rule',
      run: async () => oneRule.enforce(await verified()),
    },
    {
      name: '(c) authenticate() + limiter, subject and client rules',
      run: async () => twoRules.enforce(await verified()),
    },
    { name: '(d) limiter alone, subject and client rules', run: () => twoRules.enforce(authInfo) },
    { name: '(e) authenticate(), signature verified', run: () => verified(uncached) },
    {
      name: '(f) authenticate(), signature verified, + limiter, subject and client rules',
      run: async () => twoRules.enforce(await verified(uncached)),
    },
  ],
  { rounds, roundMs, warmupMs: 1000 },
);

console.log(
  `\nVerified request with and without the in-memory rate limiter, ${rounds} interleaved rounds of ${roundMs} ms per case, Node ${process.version}\n`,
);
console.log(markdownTable(results, results[0]?.name ?? ''));
const [a, b, c, , e, f] = results;
if (a && b && c && e && f) {
  const ratio = (x: typeof a, y: typeof a) => (x.opsPerSec / y.opsPerSec).toFixed(2);
  console.log(
    `\n(b)/(a) throughput: ${ratio(b, a)}x, (c)/(a): ${ratio(c, a)}x, (f)/(e): ${ratio(f, e)}x`,
  );
}
jwksServer.close();
