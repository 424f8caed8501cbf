/**
 * Generates test-vectors/jwt-access-tokens.json: JWT access tokens with the JWKS, verifier
 * configuration and verdict each must get. Keys are made fresh on every run, so regenerating
 * changes every token; the verdicts do not change. Run: pnpm --filter @gatehouse/auth-core vectors
 */
import { createHmac, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

const NOW = 1_800_000_000;
const ISSUER = 'https://as.example.com/realms/mcp';
const RESOURCE = 'https://mcp.example.com/mcp';

interface VectorConfig {
  issuer: string;
  audience: string[];
  algorithms?: string[];
  allowPlainJwt: boolean;
  clockToleranceSec: number;
  maxTokenBytes: number;
  now: number;
}

type Expected =
  | { valid: true; subject?: string; clientId: string; scopes: string[]; expiresAt?: number }
  | { valid: false; error: 'invalid_token'; reason: string };

interface Vector {
  id: string;
  description: string;
  token: string;
  jwks: { keys: JWK[] };
  config: VectorConfig;
  expected: Expected;
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));

async function main() {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const rsaOther = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const attacker = await generateKeyPair('ES256', { extractable: true });
  // The same RSA key, usable for RSA-PSS signatures.
  const rsaPss = (await importJWK(await exportJWK(rsa.privateKey), 'PS256')) as CryptoKey;
  const rsaKid = 'rsa-1';
  const ecKid = 'ec-1';
  // The RSA key is published without `alg`, so both RS256 and PS256 tokens can name it.
  const rsaJwk: JWK = { ...(await exportJWK(rsa.publicKey)), kid: rsaKid, use: 'sig' };
  const ecJwk: JWK = { ...(await exportJWK(ec.publicKey)), kid: ecKid, alg: 'ES256', use: 'sig' };
  const jwks = { keys: [rsaJwk, ecJwk] };
  const config: VectorConfig = {
    issuer: ISSUER,
    audience: [RESOURCE],
    allowPlainJwt: false,
    clockToleranceSec: 10,
    maxTokenBytes: 8192,
    now: NOW,
  };

  const claims = (overrides: Record<string, unknown> = {}) => {
    const payload: Record<string, unknown> = {
      iss: ISSUER,
      sub: 'alice',
      aud: RESOURCE,
      client_id: 'client-1',
      scope: 'mcp:tools',
      iat: NOW - 60,
      exp: NOW + 240,
      jti: randomUUID(),
      ...overrides,
    };
    for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
    return payload;
  };
  const sign = (
    payload: Record<string, unknown>,
    header: Record<string, unknown> = {},
    key: CryptoKey = rsa.privateKey,
  ) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: rsaKid, typ: 'at+jwt', ...header } as {
        alg: string;
      })
      .sign(key);
  const ok = (overrides: Partial<Extract<Expected, { valid: true }>> = {}): Expected => ({
    valid: true,
    subject: 'alice',
    clientId: 'client-1',
    scopes: ['mcp:tools'],
    expiresAt: NOW + 240,
    ...overrides,
  });
  const bad = (reason: string): Expected => ({ valid: false, error: 'invalid_token', reason });

  const vectors: Vector[] = [];
  const add = (
    id: string,
    description: string,
    token: string,
    expected: Expected,
    overrides: { config?: Partial<VectorConfig>; jwks?: { keys: JWK[] } } = {},
  ) =>
    vectors.push({
      id,
      description,
      token,
      jwks: overrides.jwks ?? jwks,
      config: { ...config, ...overrides.config },
      expected,
    });

  // Accepted
  add('valid-rs256', 'RFC 9068 at+jwt signed RS256', await sign(claims()), ok());
  add(
    'valid-es256',
    'at+jwt signed ES256',
    await sign(claims(), { alg: 'ES256', kid: ecKid }, ec.privateKey),
    ok(),
  );
  add(
    'valid-ps256',
    'at+jwt signed PS256 with an RSA key published without alg',
    await sign(claims(), { alg: 'PS256' }, rsaPss),
    ok(),
  );
  add(
    'valid-typ-media-type',
    'typ application/at+jwt is the same type',
    await sign(claims(), { typ: 'application/at+jwt' }),
    ok(),
  );
  add(
    'valid-aud-array',
    'aud array that contains this resource',
    await sign(claims({ aud: ['https://other.example.com/api', RESOURCE] })),
    ok(),
  );
  add(
    'valid-aud-trailing-slash',
    'aud with one trailing slash is the same resource',
    await sign(claims({ aud: `${RESOURCE}/` })),
    ok(),
  );
  add(
    'valid-aud-case',
    'aud with uppercase scheme and host is the same resource',
    await sign(claims({ aud: 'HTTPS://MCP.EXAMPLE.COM/mcp' })),
    ok(),
  );
  add(
    'valid-aud-default-port',
    'aud with the explicit default port is the same resource',
    await sign(claims({ aud: 'https://mcp.example.com:443/mcp' })),
    ok(),
  );
  add(
    'valid-exp-within-leeway',
    'expired 5 s ago, inside the 10 s leeway',
    await sign(claims({ exp: NOW - 5 })),
    ok({ expiresAt: NOW - 5 }),
  );
  add(
    'valid-nbf-within-leeway',
    'nbf 5 s ahead, inside the 10 s leeway',
    await sign(claims({ nbf: NOW + 5 })),
    ok(),
  );
  add(
    'valid-keycloak-shape',
    'Keycloak-shaped token: typ JWT (allowed by configuration), azp instead of client_id, aud array',
    await sign(
      claims({ client_id: undefined, azp: 'vscode', aud: ['account', RESOURCE], typ: 'Bearer' }),
      { typ: 'JWT' },
    ),
    ok({ clientId: 'vscode' }),
    { config: { allowPlainJwt: true } },
  );
  add(
    'valid-no-typ-plain-allowed',
    'no typ header, plain JWT allowed by configuration',
    await sign(claims(), { typ: undefined }),
    ok(),
    {
      config: { allowPlainJwt: true },
    },
  );
  add(
    'valid-scp-array',
    'scopes in an scp array',
    await sign(claims({ scope: undefined, scp: ['mcp:tools', 'mcp:admin'] })),
    ok({ scopes: ['mcp:tools', 'mcp:admin'] }),
  );

  // Algorithms and keys
  const valid = await sign(claims());
  const [, validPayload, validSignature] = valid.split('.');
  add(
    'alg-none-unsigned',
    'alg none without signature',
    `${json({ alg: 'none', typ: 'at+jwt' })}.${validPayload}.`,
    bad('unsupported_algorithm'),
  );
  add(
    'alg-none-with-signature',
    'alg none with a signature segment',
    `${json({ alg: 'none', typ: 'at+jwt' })}.${validPayload}.${validSignature}`,
    bad('unsupported_algorithm'),
  );
  const hsInput = `${json({ alg: 'HS256', kid: rsaKid, typ: 'at+jwt' })}.${validPayload}`;
  const pem = await exportSPKI(rsa.publicKey);
  add(
    'alg-hs256-public-key-as-secret',
    'HS256 signed with the RSA public key (PEM) as the HMAC secret',
    `${hsInput}.${createHmac('sha256', pem).update(hsInput).digest('base64url')}`,
    bad('unsupported_algorithm'),
  );
  const octJwk: JWK = { kty: 'oct', kid: 'oct-1', k: b64('shared-secret-shared-secret-1234') };
  const octInput = `${json({ alg: 'HS256', kid: 'oct-1', typ: 'at+jwt' })}.${validPayload}`;
  add(
    'alg-hs256-oct-key-in-jwks',
    'HS256 token whose symmetric key is (wrongly) published in the JWKS',
    `${octInput}.${createHmac('sha256', 'shared-secret-shared-secret-1234').update(octInput).digest('base64url')}`,
    bad('unsupported_algorithm'),
    { jwks: { keys: [rsaJwk, ecJwk, octJwk] } },
  );
  add(
    'alg-not-allowed-ps256',
    'PS256 while the allow-list is RS256 only',
    await sign(claims(), { alg: 'PS256' }, rsaPss),
    bad('unsupported_algorithm'),
    { config: { algorithms: ['RS256'] } },
  );
  add(
    'alg-not-allowed-es256',
    'ES256 while the allow-list is RS256 only',
    await sign(claims(), { alg: 'ES256', kid: ecKid }, ec.privateKey),
    bad('unsupported_algorithm'),
    { config: { algorithms: ['RS256'] } },
  );
  add(
    'kid-unknown',
    'kid not in the JWKS',
    await sign(claims(), { kid: 'rotated-away' }),
    bad('unknown_key'),
  );
  add(
    'kid-alg-kty-mismatch',
    'kid of the RSA key with alg ES256',
    await sign(claims(), { alg: 'ES256', kid: rsaKid }, ec.privateKey),
    bad('unknown_key'),
  );
  add(
    'embedded-jwk-ignored',
    'signed by a key embedded in the jwk header (attacker key), kid unknown',
    await sign(
      claims(),
      { alg: 'ES256', kid: 'attacker', jwk: await exportJWK(attacker.publicKey) },
      attacker.privateKey,
    ),
    bad('unknown_key'),
  );
  add(
    'jku-ignored',
    'jku header pointing elsewhere is never followed',
    await sign(
      claims(),
      { alg: 'ES256', kid: 'attacker', jku: 'https://attacker.example/jwks' },
      attacker.privateKey,
    ),
    bad('unknown_key'),
  );
  add(
    'jwks-key-use-enc',
    'the only matching key is published for encryption',
    valid,
    bad('unknown_key'),
    { jwks: { keys: [{ ...rsaJwk, use: 'enc' }, ecJwk] } },
  );
  add(
    'jwks-key-private',
    'the matching key is published with its private part (dropped)',
    valid,
    bad('unknown_key'),
    { jwks: { keys: [{ ...(await exportJWK(rsa.privateKey)), kid: rsaKid }, ecJwk] } },
  );
  add(
    'signature-other-key',
    'signed by another RSA key under the published kid',
    await sign(claims(), {}, rsaOther.privateKey),
    bad('invalid_signature'),
  );
  const [validHeader] = valid.split('.');
  add(
    'signature-payload-tampered',
    'payload changed after signing (scope elevated)',
    `${validHeader}.${json({ ...JSON.parse(Buffer.from(validPayload ?? '', 'base64url').toString()), scope: 'mcp:tools mcp:admin' })}.${validSignature}`,
    bad('invalid_signature'),
  );

  // Issuer
  add(
    'iss-other',
    'another issuer',
    await sign(claims({ iss: 'https://evil.example.com/realms/mcp' })),
    bad('issuer_mismatch'),
  );
  add(
    'iss-trailing-slash',
    'issuer differing only by a trailing slash',
    await sign(claims({ iss: `${ISSUER}/` })),
    bad('issuer_mismatch'),
  );
  add(
    'iss-other-realm',
    'another realm of the same host',
    await sign(claims({ iss: 'https://as.example.com/realms/other' })),
    bad('issuer_mismatch'),
  );
  add(
    'iss-missing',
    'no iss claim',
    await sign(claims({ iss: undefined })),
    bad('issuer_mismatch'),
  );

  // Audience
  add(
    'aud-other-resource',
    'aud of another resource',
    await sign(claims({ aud: 'https://other.example.com/mcp' })),
    bad('audience_mismatch'),
  );
  add(
    'aud-missing',
    'no aud claim',
    await sign(claims({ aud: undefined })),
    bad('missing_audience'),
  );
  add(
    'aud-empty-array',
    'aud is an empty array',
    await sign(claims({ aud: [] })),
    bad('missing_audience'),
  );
  add(
    'aud-prefix-sibling',
    'aud that this resource is a string prefix of',
    await sign(claims({ aud: 'https://mcp.example.com/mcp-admin' })),
    bad('audience_mismatch'),
  );
  add(
    'aud-sub-path',
    'aud below this resource',
    await sign(claims({ aud: 'https://mcp.example.com/mcp/admin' })),
    bad('audience_mismatch'),
  );
  add(
    'aud-parent-origin',
    'aud of the bare origin (a prefix of this resource)',
    await sign(claims({ aud: 'https://mcp.example.com' })),
    bad('audience_mismatch'),
  );
  add(
    'aud-other-scheme',
    'aud with http instead of https',
    await sign(claims({ aud: 'http://mcp.example.com/mcp' })),
    bad('audience_mismatch'),
  );
  add(
    'aud-other-port',
    'aud with another port',
    await sign(claims({ aud: 'https://mcp.example.com:8443/mcp' })),
    bad('audience_mismatch'),
  );
  add(
    'aud-fragment',
    'aud with a fragment is not a resource URI',
    await sign(claims({ aud: `${RESOURCE}#x` })),
    bad('audience_mismatch'),
  );
  add(
    'aud-client-id-only',
    'aud is only a client id (Keycloak default)',
    await sign(claims({ aud: 'account' })),
    bad('audience_mismatch'),
  );

  // Time
  add('exp-past', 'expired 60 s ago', await sign(claims({ exp: NOW - 60 })), bad('token_expired'));
  add('exp-missing', 'no exp claim', await sign(claims({ exp: undefined })), bad('missing_claim'));
  add(
    'exp-string',
    'exp is a string',
    await sign(claims({ exp: String(NOW + 240) })),
    bad('invalid_claim'),
  );
  add(
    'nbf-future',
    'nbf 60 s ahead',
    await sign(claims({ nbf: NOW + 60 })),
    bad('token_not_yet_valid'),
  );
  add(
    'iat-future',
    'iat 60 s ahead',
    await sign(claims({ iat: NOW + 60 })),
    bad('issued_in_future'),
  );

  // Type and claims
  add(
    'typ-jwt-not-allowed',
    'typ JWT while plain JWTs are not allowed',
    await sign(claims(), { typ: 'JWT' }),
    bad('unsupported_token_type'),
  );
  add(
    'typ-missing-not-allowed',
    'no typ while plain JWTs are not allowed',
    await sign(claims(), { typ: undefined }),
    bad('unsupported_token_type'),
  );
  add(
    'typ-dpop-proof',
    'a DPoP proof (typ dpop+jwt) is not an access token',
    await sign(claims(), { typ: 'dpop+jwt' }),
    bad('unsupported_token_type'),
    { config: { allowPlainJwt: true } },
  );
  add(
    'typ-id-token',
    'typ id+jwt is not an access token',
    await sign(claims(), { typ: 'id+jwt' }),
    bad('unsupported_token_type'),
    { config: { allowPlainJwt: true } },
  );
  add(
    'at-jwt-missing-client-id',
    'at+jwt without client_id (RFC 9068 §2.2)',
    await sign(claims({ client_id: undefined })),
    bad('missing_claim'),
  );
  add(
    'at-jwt-missing-sub',
    'at+jwt without sub',
    await sign(claims({ sub: undefined })),
    bad('missing_claim'),
  );
  add(
    'at-jwt-missing-jti',
    'at+jwt without jti',
    await sign(claims({ jti: undefined })),
    bad('missing_claim'),
  );
  add(
    'cnf-certificate-bound',
    'bound to a client certificate (cnf x5t#S256), which cannot be checked here',
    await sign(claims({ cnf: { 'x5t#S256': b64('thumbprint') } })),
    bad('invalid_claim'),
  );
  // jose refuses to sign with an unknown crit parameter, so this one is signed by hand.
  const critInput = `${json({ alg: 'RS256', kid: rsaKid, typ: 'at+jwt', crit: ['urn:example:unknown'], 'urn:example:unknown': true })}.${json(claims())}`;
  const critSignature = Buffer.from(
    await crypto.subtle.sign(
      'RSASSA-PKCS1-v1_5',
      rsa.privateKey,
      new TextEncoder().encode(critInput),
    ),
  ).toString('base64url');
  add(
    'crit-unknown',
    'unknown critical header parameter',
    `${critInput}.${critSignature}`,
    bad('malformed_token'),
  );

  // Shape
  add(
    'malformed-two-segments',
    'only two segments',
    `${validHeader}.${validPayload}`,
    bad('malformed_token'),
  );
  add('malformed-empty', 'empty token', '', bad('malformed_token'));
  add(
    'malformed-base64-alphabet',
    'base64 (not base64url) characters in the payload',
    `${validHeader}.${validPayload}+/.${validSignature}`,
    bad('malformed_token'),
  );
  add(
    'malformed-header-not-json',
    'header is not JSON',
    `${b64('not json')}.${validPayload}.${validSignature}`,
    bad('malformed_token'),
  );
  const notJsonInput = `${json({ alg: 'ES256', kid: ecKid, typ: 'at+jwt' })}.${b64('not json')}`;
  const { CompactSign } = await import('jose');
  const notJson = await new CompactSign(new TextEncoder().encode('not json'))
    .setProtectedHeader({ alg: 'ES256', kid: ecKid, typ: 'at+jwt' })
    .sign(ec.privateKey);
  if (!notJson.startsWith(notJsonInput)) throw new Error('unexpected JWS encoding');
  add(
    'malformed-payload-not-json',
    'validly signed payload that is not JSON',
    notJson,
    bad('malformed_token'),
  );
  add(
    'oversized',
    'validly signed token larger than maxTokenBytes',
    await sign(claims({ padding: 'x'.repeat(9000) })),
    bad('token_too_large'),
  );

  const document = {
    description:
      'JWT access-token validation vectors for MCP resource servers. See README.md for the format. Generated by packages/auth-core/scripts/generate-test-vectors.ts.',
    version: 1,
    vectors,
  };
  writeFileSync(
    new URL('../test-vectors/jwt-access-tokens.json', import.meta.url),
    `${JSON.stringify(document, null, 2)}\n`,
  );
  console.log(
    `wrote ${vectors.length} vectors (${vectors.filter((v) => !v.expected.valid).length} negative)`,
  );
}

await main();
