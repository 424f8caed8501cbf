/**
 * Rule mutations: each entry removes one validation rule from the source (in memory, at transform
 * time; no file is touched) and names the test files that must then fail. `pnpm test:rules` runs
 * them all and fails if any mutant survives, which proves each rule has a negative test that would
 * fail if the rule were removed.
 */
export interface SourceEdit {
  readonly file: string;
  readonly find: string;
  readonly replace: string;
}

export interface RuleMutation {
  readonly rule: string;
  /** Usually one edit; several where a rule is enforced twice (by us and by jose) and both must go. */
  readonly edits: readonly SourceEdit[];
  readonly tests: readonly string[];
}

const edit = (file: string, find: string, replace: string): SourceEdit => ({ file, find, replace });

const vectors = 'test/vectors.test.ts';
const replayStore = 'test/redis-replay-store.test.ts';
const rateLimit = 'test/rate-limit.test.ts';
const rateLimitHttp = 'test/rate-limit-adapters.test.ts';
const rateLimitRedis = 'test/redis-rate-limit-store.test.ts';

export const mutations: readonly RuleMutation[] = [
  {
    rule: 'verified-token cache dropped when the JWKS changes',
    edits: [edit('src/jwt.ts', '          verified.clear();\n', '')],
    tests: ['test/jwks.test.ts'],
  },
  {
    rule: 'cached tokens still expire',
    edits: [
      edit('src/jwt.ts', 'checkTimes(hit.claims, Math.floor(now() / 1000), leeway, true);', ''),
    ],
    tests: ['test/jwks.test.ts'],
  },
  {
    rule: 'alg allow-list',
    edits: [
      edit('src/jwt.ts', "typeof header.alg !== 'string' || !allowed.has(header.alg)", 'false'),
      edit('src/jwt.ts', '        algorithms,\n', ''),
    ],
    tests: [vectors],
  },
  {
    rule: 'typ at+jwt',
    edits: [edit('src/jwt.ts', 'checkTyp(header.typ, options.allowPlainJwt === true);', '')],
    tests: [vectors],
  },
  {
    rule: 'token size limit',
    edits: [edit('src/jwt.ts', 'token.length > maxTokenBytes', 'false')],
    tests: [vectors],
  },
  {
    rule: 'iss pinned',
    edits: [
      edit('src/jwt.ts', 'issuer: options.issuer,\n        clockTolerance', 'clockTolerance'),
    ],
    tests: [vectors],
  },
  {
    rule: 'RFC 9068 required claims',
    edits: [
      edit(
        'src/jwt.ts',
        "for (const claim of ['sub', 'client_id', 'iat', 'jti'])",
        'for (const claim of [])',
      ),
    ],
    tests: [vectors],
  },
  {
    rule: 'aud must contain the resource',
    edits: [edit('src/internal/claims.ts', 'if (!matchesAudience(aud))', 'if (false)')],
    tests: [vectors, 'test/introspection.test.ts'],
  },
  {
    rule: 'aud required',
    edits: [
      edit(
        'src/internal/claims.ts',
        'if (aud === undefined || aud === null || (Array.isArray(aud) && aud.length === 0))',
        'if (false)',
      ),
    ],
    tests: [vectors, 'test/introspection.test.ts'],
  },
  {
    rule: 'exp required',
    edits: [
      edit('src/internal/claims.ts', 'if (requireExp) throw', 'if (false) throw'),
      edit('src/jwt.ts', "requiredClaims: ['exp'],", ''),
    ],
    tests: [vectors],
  },
  {
    rule: 'exp in the past',
    edits: [edit('src/internal/claims.ts', 'exp <= nowSec - leewaySec', 'false')],
    tests: ['test/introspection.test.ts'],
  },
  {
    rule: 'nbf in the future',
    edits: [
      edit('src/internal/claims.ts', 'nbf !== undefined && nbf > nowSec + leewaySec', 'false'),
    ],
    tests: [vectors, 'test/introspection.test.ts'],
  },
  {
    rule: 'iat in the future',
    edits: [
      edit('src/internal/claims.ts', 'iat !== undefined && iat > nowSec + leewaySec', 'false'),
    ],
    tests: [vectors],
  },
  {
    rule: 'certificate-bound tokens refused',
    edits: [edit('src/internal/claims.ts', 'if (Object.keys(others).length > 0)', 'if (false)')],
    tests: [vectors],
  },
  {
    rule: 'one trailing slash is canonical',
    edits: [edit('src/resource.ts', "if (path.endsWith('/')) path = path.slice(0, -1);", '')],
    tests: [vectors],
  },
  {
    rule: 'unknown kid refetch cooldown',
    edits: [edit('src/jwks.ts', 'if (now() - lastAttemptAt < cooldownMs) {', 'if (false) {')],
    tests: ['test/jwks.test.ts'],
  },
  {
    rule: 'cached keys survive a JWKS outage',
    edits: [
      edit(
        'src/jwks.ts',
        'refreshInBackground = (): void => {\n    load().catch((error: unknown) => {',
        'refreshInBackground = (): void => {\n    load().catch((error: unknown) => {\n      keys = undefined;',
      ),
    ],
    tests: ['test/jwks.test.ts'],
  },
  {
    rule: 'no redirects to key or metadata URLs',
    edits: [edit('src/internal/fetch-json.ts', "redirect: 'manual'", "redirect: 'follow'")],
    tests: ['test/jwks.test.ts'],
  },
  {
    rule: 'metadata issuer must match',
    edits: [edit('src/discovery.ts', 'parsed.data.issuer !== issuer', 'false')],
    tests: ['test/discovery.test.ts'],
  },
  {
    rule: 'introspection active must be true',
    edits: [edit('src/introspection.ts', 'answer.active !== true', 'answer.active === false')],
    tests: ['test/introspection.test.ts'],
  },
  {
    rule: 'introspection iss',
    edits: [
      edit(
        'src/introspection.ts',
        'answer.iss !== undefined && answer.iss !== options.issuer',
        'false',
      ),
    ],
    tests: ['test/introspection.test.ts'],
  },
  {
    rule: 'step-up refused without the scopes (koa)',
    edits: [edit('src/adapters/koa.ts', '    if (denied) {', '    if (false) {')],
    tests: ['test/adapters.test.ts'],
  },
  {
    rule: 'step-up refused without the scopes (node)',
    edits: [edit('src/adapters/node.ts', 'if (denied) writeResponse', 'if (false) writeResponse')],
    tests: ['test/adapters.test.ts'],
  },
  {
    rule: 'step-up refused without the scopes (fetch)',
    edits: [
      edit('src/adapters/fetch.ts', 'return denied ? toResponse', 'return false ? toResponse'),
    ],
    tests: ['test/adapters.test.ts'],
  },
  {
    rule: 'per-tool scopes of every tools/call',
    edits: [edit('src/tool-scopes.ts', 'needed.add(scope)', 'void scope')],
    tests: ['test/units.test.ts'],
  },
  {
    rule: 'introspection refuses refresh tokens',
    edits: [edit('src/introspection.ts', 'type !== undefined &&', 'false &&')],
    tests: ['test/introspection.test.ts'],
  },
  {
    rule: 'introspection cache bounded by exp',
    edits: [
      edit('src/introspection.ts', 'Math.min(cacheTtlMs, expiresAt * 1000 - now())', 'cacheTtlMs'),
    ],
    tests: ['test/introspection.test.ts'],
  },
  {
    rule: 'DPoP-bound token never as bearer',
    edits: [edit('src/resource-server.ts', "if (credentials.scheme !== 'DPoP') {", 'if (false) {')],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'DPoP scheme needs a bound token',
    edits: [
      edit(
        'src/resource-server.ts',
        "} else if (credentials.scheme === 'DPoP') {",
        '} else if (false) {',
      ),
    ],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'DPoP htm',
    edits: [edit('src/dpop.ts', 'htm !== input.method.toUpperCase()', 'false')],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'DPoP htu',
    edits: [edit('src/dpop.ts', 'normalizeHtu(htu) !== normalizeHtu(input.url)', 'false')],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'DPoP iat window',
    edits: [
      edit('src/dpop.ts', 'iat > nowSec + toleranceSec || iat < nowSec - maxAgeSec', 'false'),
    ],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'DPoP ath',
    edits: [edit('src/dpop.ts', 'if (ath !== expectedAth)', 'if (false)')],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'DPoP key thumbprint',
    edits: [edit('src/dpop.ts', 'if (thumbprint !== input.expectedJkt)', 'if (false)')],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'DPoP jti replay',
    edits: [edit('src/dpop.ts', 'if (!fresh)', 'if (false)')],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'DPoP replay store failure refuses the proof (fail closed)',
    edits: [
      edit(
        'src/dpop.ts',
        "throw new TemporarilyUnavailableError(\n        'dpop_replay_store_unavailable',",
        "return void new TemporarilyUnavailableError(\n        'dpop_replay_store_unavailable',",
      ),
    ],
    tests: [replayStore],
  },
  {
    rule: 'shared replay store sets only if absent (NX)',
    edits: [
      edit('src/redis-replay-store.ts', "        ttlMs,\n        'NX',\n", '        ttlMs,\n'),
    ],
    tests: [replayStore],
  },
  {
    rule: 'shared replay store entries expire with the proof',
    edits: [
      edit(
        'src/redis-replay-store.ts',
        'const ttlMs = Math.max(1, remainingMs);',
        'const ttlMs = 3_600_000;',
      ),
    ],
    tests: [replayStore],
  },
  {
    rule: 'DPoP single proof',
    edits: [edit('src/dpop.ts', 'if (input.proofs.length > 1)', 'if (false)')],
    tests: ['test/dpop.test.ts'],
  },
  {
    rule: 'token in query refused',
    edits: [
      edit(
        'src/resource-server.ts',
        "new URL(request.url, origin).searchParams.has('access_token')",
        'false',
      ),
    ],
    tests: ['test/resource-server.test.ts'],
  },
  {
    rule: 'token in body refused',
    edits: [
      edit('src/resource-server.ts', 'if (hasAccessToken(request.bodyParams))', 'if (false)'),
    ],
    tests: ['test/adapters.test.ts'],
  },
  {
    rule: 'one Authorization header',
    edits: [edit('src/authorization-header.ts', 'if (values.length > 1)', 'if (false)')],
    tests: ['test/resource-server.test.ts'],
  },
  {
    rule: 'credentials are one token68',
    edits: [edit('src/authorization-header.ts', 'if (!TOKEN68.test(credentials))', 'if (false)')],
    tests: ['test/resource-server.test.ts'],
  },
  {
    rule: 'required scopes enforced',
    edits: [
      edit('src/scopes.ts', 'return required.filter((scope) => !all.has(scope));', 'return [];'),
    ],
    tests: ['test/resource-server.test.ts'],
  },
  {
    rule: 'no error code without credentials',
    edits: [
      edit(
        'src/resource-server.ts',
        'return fail(undefined, required',
        "return fail(new InvalidTokenError('malformed_token', 'x'), required",
      ),
    ],
    tests: ['test/resource-server.test.ts'],
  },
  {
    rule: 'rate limit refuses past the quota (memory store)',
    edits: [
      edit(
        'src/rate-limit-store.ts',
        'if (Math.max(tat, nowUs) - nowUs > cell.toleranceUs) conforms = false;',
        'if (false) conforms = false;',
      ),
    ],
    tests: [rateLimit, rateLimitHttp],
  },
  {
    rule: 'rate limit refuses past the quota (Redis script)',
    edits: [edit('src/redis-rate-limit-store.ts', ' then ok = 0 end', ' then ok = 1 end')],
    tests: [rateLimitRedis],
  },
  {
    rule: 'a refused request counts against no rule (memory store)',
    edits: [
      edit(
        'src/rate-limit-store.ts',
        'if (!conforms) return { recorded: false, tats: before };',
        'if (!conforms) { for (const [i, cell] of cells.entries()) tats.set(cell.key, Math.max(before[i] ?? 0, nowUs) + cell.intervalUs); return { recorded: false, tats: before }; }',
      ),
    ],
    tests: [rateLimit],
  },
  {
    rule: 'a refused request counts against no rule (Redis script)',
    edits: [edit('src/redis-rate-limit-store.ts', 'if ok == 1 then', 'if true then')],
    tests: [rateLimitRedis],
  },
  {
    rule: 'a token without a subject is limited by its client',
    edits: [
      edit(
        'src/internal/rate-limit-rules.ts',
        "    return clientId === undefined ? undefined : ['c', clientId];",
        '    return undefined;',
      ),
    ],
    tests: [rateLimit, rateLimitHttp],
  },
  {
    rule: 'subject and client identities never share a counter',
    edits: [
      edit(
        'src/internal/rate-limit-rules.ts',
        "if (subject) return ['s', subject];",
        "if (subject) return ['c', subject];",
      ),
    ],
    tests: [rateLimit],
  },
  {
    rule: 'rate-limit keys hold a hash, never the identity',
    edits: [
      edit(
        'src/internal/rate-limit-rules.ts',
        '.then((hash) => {',
        '.then(() => {\n        const hash = value;',
      ),
    ],
    tests: [rateLimit, rateLimitRedis],
  },
  {
    rule: 'memory rate-limit store bounded by maxKeys',
    edits: [
      edit(
        'src/rate-limit-store.ts',
        'if (tats.size > maxKeys) tats.delete(key);',
        'if (false) tats.delete(key);',
      ),
    ],
    tests: [rateLimit],
  },
  {
    rule: 'memory rate-limit store sweeps whole quotas',
    edits: [
      edit(
        'src/rate-limit-store.ts',
        'swept < SWEEP_PER_CALL && (tats.get(key) ?? 0) <= nowUs',
        'false',
      ),
    ],
    tests: [rateLimit],
  },
  {
    rule: 'Redis rate-limit keys expire',
    edits: [
      edit('src/redis-rate-limit-store.ts', ", 'PX', math.ceil((tats[i] - now) / 1000))", ')'),
    ],
    tests: [rateLimitRedis],
  },
  {
    rule: 'rate-limit store failure fails open by default',
    edits: [
      edit(
        'src/rate-limit.ts',
        "(options.onStoreError ?? 'allow') === 'allow'",
        "options.onStoreError === 'allow'",
      ),
    ],
    tests: [rateLimit, rateLimitRedis],
  },
  {
    rule: "rate-limit store failure refuses with onStoreError: 'refuse'",
    edits: [edit('src/rate-limit.ts', 'allowed: failOpen,', 'allowed: true,')],
    tests: [rateLimit, rateLimitHttp],
  },
  {
    rule: 'Retry-After at least 1 second',
    edits: [
      edit(
        'src/rate-limit.ts',
        'Math.max(1, Math.ceil(binding.refillInMs / 1000))',
        'Math.ceil(binding.refillInMs / 1000)',
      ),
    ],
    tests: [rateLimit],
  },
  {
    rule: 'rate limit refusals answered (koa)',
    edits: [
      edit(
        'src/adapters/koa.ts',
        'if (!outcome.ok) {\n      respond(ctx, outcome.response);\n      options.onRefused?.(ctx, outcome.decision, outcome.correlationId);\n      return;\n    }\n    for (const [name, value] of Object.entries(outcome.headers))',
        'for (const [name, value] of Object.entries(outcome.ok ? outcome.headers : {}))',
      ),
    ],
    tests: [rateLimitHttp],
  },
  {
    rule: 'rate limit refusals answered (node)',
    edits: [
      edit(
        'src/adapters/node.ts',
        'if (!outcome.ok) {\n    writeResponse(res, outcome.response);\n    return false;\n  }\n  for (const [name, value] of Object.entries(outcome.headers))',
        'for (const [name, value] of Object.entries(outcome.ok ? outcome.headers : {}))',
      ),
    ],
    tests: [rateLimitHttp],
  },
  {
    rule: 'rate limit refusals answered (fetch)',
    edits: [
      edit(
        'src/adapters/fetch.ts',
        'if (!outcome.ok) return toResponse(outcome.response);\n  for (const [name, value] of Object.entries(outcome.headers))',
        'for (const [name, value] of Object.entries(outcome.ok ? outcome.headers : {}))',
      ),
    ],
    tests: [rateLimitHttp],
  },
];
