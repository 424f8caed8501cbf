/**
 * Gatehouse under load, side by side with Keycloak and with the reference tutorial's
 * introspect-every-request design, all in one run on loopback (issue #6):
 *   1. token validation, in this process: raw `jose.jwtVerify`, auth-core JWT mode, auth-core
 *      introspection mode with no cache at our server (SQLite and Redis stores) and at Keycloak;
 *   2. MCP `tools/call`: the same SDK handler and tools with no auth, our MCP server in JWT mode,
 *      our MCP server introspecting every request (at our server, at Keycloak), and the tutorial's
 *      Python server introspecting every request at Keycloak;
 *   3. token endpoint, refresh grant with rotating refresh tokens: auth-server on SQLite, on Redis,
 *      and Keycloak;
 *   6. a soak at saturation on the MCP server (JWT mode) and on the token endpoint (SQLite): errors
 *      and resident memory over time.
 * (4 and 5, the full flow and start/memory, are `keycloak-vs-auth-server.ts`.)
 * Load is autocannon; compared cases run interleaved in rounds (a, b, c, a, b, c, …).
 * Run: pnpm bench (root) or pnpm --filter @gatehouse/bench bench:load. Options: see README.md.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createIntrospectionVerifier, createJwtVerifier } from '@gatehouse/auth-core';
import { KEYCLOAK_VERSION } from '@gatehouse/keycloak-runner';
import { bench, freePort, introspectionClient, obtainToken } from '@gatehouse/testkit';
import { importJWK, type JSONWebKeySet, jwtVerify } from 'jose';
import { keycloakTokenSource } from './keycloak-tokens.js';
import { type LoadSample, load, refreshGrantLoad, sampleEvery, summarizeCase } from './load.js';
import { checkToolsCall, mcpRequestHeaders, mcpSessionPool, TOOLS_CALL_BODY } from './mcp-calls.js';
import { treeRss } from './process-memory.js';
import { refreshChains } from './refresh-chains.js';
import {
  benchEnvironment,
  benchSetting,
  markdownTable,
  num,
  times,
  writeResults,
} from './report.js';
import {
  type BenchServer,
  type ChildServer,
  mcpServerApp,
  REPO_ROOT,
  startAuthServer,
  startBenchRedis,
  startChildServer,
  startKeycloakServer,
  stopAll,
  stopAllOnSignal,
} from './servers.js';
import { median, percentile, ratio } from './stats.js';

const settings = {
  seconds: benchSetting('BENCH_SECONDS', 5, 1),
  rounds: benchSetting('BENCH_ROUNDS', 3, 1),
  connections: benchSetting('BENCH_CONNECTIONS', 10, 1),
  warmupSeconds: benchSetting('BENCH_WARMUP_SECONDS', 5, 0),
  validationRoundMs: benchSetting('BENCH_VALIDATION_ROUND_MS', 1000, 100),
  soakSeconds: benchSetting('BENCH_SOAK_SECONDS', 60, 5),
  soakWarmupSeconds: benchSetting('BENCH_SOAK_WARMUP_SECONDS', 10, 0),
};
const SCOPE = 'mcp:tools';
/** The realm's `mcp-server` client secret (keycloak-runner's default) and ours alike. */
const INTROSPECTOR = { id: 'mcp-server', secret: 'mcp-server-introspection-secret' };

stopAllOnSignal();

/** The tutorial's Python server needs the Python MCP SDK `npm test` installs into .tools/python. */
function pythonWithMcpSdk(): string | undefined {
  const python =
    process.env.GATEHOUSE_PYTHON ?? join(REPO_ROOT, '.tools', 'python', 'bin', 'python');
  return existsSync(python) ? python : undefined;
}

interface Discovery {
  readonly issuer: string;
  readonly token_endpoint: string;
  readonly introspection_endpoint: string;
  readonly jwks_uri: string;
}
const discover = async (issuer: string): Promise<Discovery> =>
  (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Discovery;

const environment = { ...benchEnvironment(), keycloak: KEYCLOAK_VERSION };
console.log(
  `\nGatehouse under load vs Keycloak ${KEYCLOAK_VERSION} and the tutorial's design, Node ${environment.node}, ${environment.machine.cpus} × ${environment.machine.cpu}`,
);
console.log(
  `autocannon: ${settings.connections} connections, ${settings.rounds} interleaved rounds of ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up each; soak ${settings.soakSeconds} s`,
);

try {
  // ---------------------------------------------------------------- servers
  const [jwtPort, introspectPort, keycloakMcpPort, barePort, tutorialPort] = await Promise.all(
    [0, 1, 2, 3, 4].map(() => freePort()),
  );
  const resources = {
    jwt: `http://localhost:${jwtPort}/mcp`,
    opaque: `http://localhost:${introspectPort}/mcp`,
    // The tutorial's resource is its server URL (no path); Keycloak's audience mapper names it.
    keycloak: `http://localhost:${tutorialPort}`,
  };
  const asResources = [
    { resource: resources.jwt, scopes: [SCOPE], defaultScopes: [SCOPE], accessTokenTtl: 3600 },
    {
      resource: resources.opaque,
      scopes: [SCOPE],
      accessTokenFormat: 'opaque',
      accessTokenTtl: 3600,
    },
  ];
  const asEnv = {
    AUTH_CLIENTS: JSON.stringify([introspectionClient(INTROSPECTOR)]),
    // The default (1,200 token requests per IP per minute) would cap the refresh load; the limiter
    // itself still runs on every request.
    AUTH_TOKEN_RATE_LIMIT: '100000000',
  };
  const redis = await startBenchRedis();
  const authServers: Record<'sqlite' | 'redis', BenchServer> = {
    sqlite: await startAuthServer({ resources: asResources, env: asEnv }),
    redis: await startAuthServer({ store: redis.url, resources: asResources, env: asEnv }),
  };
  // H2 in a file: Keycloak persists what it writes, as our SQLite store does (in-memory H2 would
  // compare a database that keeps nothing with one that syncs its log).
  const keycloak = await startKeycloakServer({ mcpResource: resources.keycloak, database: 'file' });
  const discovery = {
    sqlite: await discover(authServers.sqlite.issuer),
    redis: await discover(authServers.redis.issuer),
    keycloak: await discover(keycloak.issuer),
  };
  console.log(
    `  auth-server (SQLite) ${authServers.sqlite.issuer}, auth-server (Redis ${redis.url}) ${authServers.redis.issuer}, Keycloak ${keycloak.issuer}`,
  );

  const mcp = mcpServerApp();
  const startMcp = (name: string, resource: string, env: Record<string, string>) =>
    startChildServer(name, process.execPath, [mcp.main], {
      cwd: mcp.appDir,
      env: {
        MCP_RESOURCE: resource,
        // One token drives the load: the per-user limit would measure 429s.
        MCP_RATE_LIMIT: 'off',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        ...env,
      },
      readyUrl: `${new URL(resource).origin}/healthz`,
      // LOG_LEVEL=warn: no "ready at" line; its own socket on the port shows the answer is its.
      listensOn: Number(new URL(resource).port),
    });
  const introspectionEnv = {
    AUTH_MODE: 'introspection',
    AUTH_INTROSPECTION_CLIENT_ID: INTROSPECTOR.id,
    AUTH_INTROSPECTION_CLIENT_SECRET: INTROSPECTOR.secret,
    AUTH_INTROSPECTION_CACHE_TTL: '0',
  };
  const mcpServers: Record<string, ChildServer> = {
    jwt: await startMcp('MCP server, JWT', resources.jwt, {
      AUTH_ISSUER: authServers.sqlite.issuer,
    }),
    introspectOurs: await startMcp('MCP server, introspection at auth-server', resources.opaque, {
      AUTH_ISSUER: authServers.sqlite.issuer,
      ...introspectionEnv,
    }),
    // Keycloak's tokens name the tutorial's resource, so this server accepts that audience.
    introspectKeycloak: await startMcp(
      'MCP server, introspection at Keycloak',
      `http://localhost:${keycloakMcpPort}/mcp`,
      { AUTH_ISSUER: keycloak.issuer, AUTH_AUDIENCE: resources.keycloak, ...introspectionEnv },
    ),
    bare: await startChildServer(
      'no auth',
      process.execPath,
      ['--import', 'tsx', join(mcp.appDir, 'bench', 'bare-server.ts'), String(barePort)],
      {
        cwd: mcp.appDir,
        readyUrl: `http://127.0.0.1:${barePort}/mcp`,
        readyStatus: 'any',
        readyLine: /^ready$/m,
      },
    ),
  };
  const python = pythonWithMcpSdk();
  if (python) {
    mcpServers.tutorial = await startChildServer(
      "tutorial's Python server",
      python,
      [join(REPO_ROOT, 'tests', 'e2e', 'python', 'tutorial_server.py')],
      {
        cwd: REPO_ROOT,
        env: {
          HOST: 'localhost',
          PORT: String(tutorialPort),
          AUTH_HOST: 'localhost',
          AUTH_PORT: new URL(keycloak.issuer).port,
          AUTH_REALM: 'mcp',
          OAUTH_CLIENT_ID: INTROSPECTOR.id,
          OAUTH_CLIENT_SECRET: INTROSPECTOR.secret,
          MCP_SCOPE: SCOPE,
        },
        readyUrl: `${resources.keycloak}/.well-known/oauth-protected-resource`,
        readyLine: 'Uvicorn running on',
      },
    );
  } else {
    console.log(
      "  the tutorial's Python server is left out: no Python MCP SDK in .tools/python (run `npm test` once, or set GATEHOUSE_PYTHON)",
    );
  }

  // ---------------------------------------------------------------- tokens
  const ours = await obtainToken(authServers.sqlite.issuer, resources.jwt, SCOPE);
  const oursOpaque = await obtainToken(authServers.sqlite.issuer, resources.opaque, SCOPE);
  const onRedisOpaque = await obtainToken(authServers.redis.issuer, resources.opaque, SCOPE);
  // Keycloak's access tokens live 300 s (the realm's setting): refreshed before every phase.
  const keycloakAccessToken = await keycloakTokenSource({
    issuer: keycloak.issuer,
    tokenEndpoint: discovery.keycloak.token_endpoint,
    resource: resources.keycloak,
    scope: SCOPE,
  });

  // ---------------------------------------------------------------- 1. token validation
  console.log('\n1. token validation');
  const jwks = (await (await fetch(discovery.sqlite.jwks_uri)).json()) as JSONWebKeySet;
  const header = JSON.parse(
    Buffer.from(ours.accessToken.split('.')[0] ?? '', 'base64url').toString('utf8'),
  ) as { kid?: string; alg: string };
  const jwk = jwks.keys.find((key) => key.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in ${discovery.sqlite.jwks_uri}`);
  const localKey = await importJWK(jwk, header.alg);
  const joseOptions = {
    issuer: authServers.sqlite.issuer,
    audience: resources.jwt,
    algorithms: [header.alg],
  };
  const jwtVerifier = createJwtVerifier({
    issuer: authServers.sqlite.issuer,
    audience: resources.jwt,
    jwksUri: discovery.sqlite.jwks_uri,
    verifiedTokenCacheSize: 0,
  });
  await jwtVerifier.warm();
  const introspecting = (name: keyof typeof discovery, issuer: string, audience: string) =>
    createIntrospectionVerifier({
      issuer,
      audience,
      introspectionEndpoint: discovery[name].introspection_endpoint,
      clientId: INTROSPECTOR.id,
      clientSecret: INTROSPECTOR.secret,
      cacheTtlSec: 0,
    });
  const introspectSqlite = introspecting('sqlite', authServers.sqlite.issuer, resources.opaque);
  const introspectRedis = introspecting('redis', authServers.redis.issuer, resources.opaque);
  const introspectKeycloak = introspecting('keycloak', keycloak.issuer, resources.keycloak);
  const keycloakJwtVerifier = createJwtVerifier({
    issuer: keycloak.issuer,
    audience: resources.keycloak,
    jwksUri: discovery.keycloak.jwks_uri,
    allowPlainJwt: true, // Keycloak types its access tokens `JWT`, not `at+jwt`
    verifiedTokenCacheSize: 0,
  });
  await keycloakJwtVerifier.warm();
  const keycloakToken = await keycloakAccessToken();
  // Fail loudly rather than time a path that refuses.
  await jwtVerify(ours.accessToken, localKey, joseOptions);
  await jwtVerifier.verify(ours.accessToken);
  await introspectSqlite.verify(oursOpaque.accessToken);
  await introspectRedis.verify(onRedisOpaque.accessToken);
  await introspectKeycloak.verify(keycloakToken);
  await keycloakJwtVerifier.verify(keycloakToken);
  const validation = await bench(
    [
      {
        name: '(a) jose.jwtVerify, local key (our JWT)',
        run: () => jwtVerify(ours.accessToken, localKey, joseOptions),
      },
      {
        name: '(b) auth-core JWT mode (our JWT)',
        run: () => jwtVerifier.verify(ours.accessToken),
      },
      {
        name: "(b') auth-core JWT mode (Keycloak's JWT)",
        run: () => keycloakJwtVerifier.verify(keycloakToken),
      },
      {
        name: '(c) auth-core introspection, no cache: auth-server, SQLite',
        run: () => introspectSqlite.verify(oursOpaque.accessToken),
      },
      {
        name: '(c) auth-core introspection, no cache: auth-server, Redis',
        run: () => introspectRedis.verify(onRedisOpaque.accessToken),
      },
      {
        name: '(c) auth-core introspection, no cache: Keycloak',
        run: () => introspectKeycloak.verify(keycloakToken),
      },
    ],
    { rounds: 5, roundMs: settings.validationRoundMs, warmupMs: 1000 },
  );
  const validationSummary = validation.map((result) => ({
    name: result.name,
    opsPerSec: result.opsPerSec,
    p50Us: percentile(result.samplesUs, 50),
    p99Us: percentile(result.samplesUs, 99),
    n: result.samplesUs.length,
  }));
  const baselineOps = validationSummary[0]?.opsPerSec ?? Number.NaN;
  const validationTable = markdownTable([
    ['case', 'validations/s', 'p50 (µs)', 'p99 (µs)', 'throughput vs (a)', 'n'],
    ...validationSummary.map((row) => [
      row.name,
      num(row.opsPerSec, ''),
      num(row.p50Us, ''),
      num(row.p99Us, ''),
      times(ratio(row.opsPerSec, baselineOps)),
      String(row.n),
    ]),
  ]);
  console.log(validationTable);

  // ---------------------------------------------------------------- 2. MCP tools/call
  console.log('\n2. MCP tools/call');
  interface McpCase {
    readonly key: string;
    readonly name: string;
    readonly url: string;
    readonly token: () => Promise<string | undefined>;
  }
  const mcpCases: McpCase[] = [
    {
      key: 'bare',
      name: 'no auth (same SDK handler and tools)',
      url: `http://127.0.0.1:${barePort}/mcp`,
      token: async () => undefined,
    },
    {
      key: 'jwt',
      name: 'our MCP server, JWT (auth-core)',
      url: resources.jwt,
      token: async () => ours.accessToken,
    },
    {
      key: 'introspectOurs',
      name: 'our MCP server, introspecting every request at auth-server',
      url: resources.opaque,
      token: async () => oursOpaque.accessToken,
    },
    {
      key: 'introspectKeycloak',
      name: 'our MCP server, introspecting every request at Keycloak',
      url: `http://localhost:${keycloakMcpPort}/mcp`,
      token: keycloakAccessToken,
    },
    ...(mcpServers.tutorial
      ? [
          {
            key: 'tutorial',
            name: "tutorial's Python server, introspecting every request at Keycloak",
            url: `${resources.keycloak}/`,
            token: keycloakAccessToken,
          },
        ]
      : []),
  ];
  /** A fresh token and the request headers for one case (its session, if it has sessions). */
  const prepare = async (c: McpCase) => {
    const token = await c.token();
    const headers = await mcpRequestHeaders(c.url, token);
    await checkToolsCall(c.url, headers);
    return { token, headers };
  };
  /** tools/call load on one case: fresh token, and one session per connection where it has any. */
  const toolsCallLoad = async (c: McpCase, seconds: number) => {
    const { token, headers } = await prepare(c);
    const sessions = await mcpSessionPool(c.url, token, headers, settings.connections);
    return load({
      url: c.url,
      method: 'POST',
      headers,
      body: TOOLS_CALL_BODY,
      connections: settings.connections,
      seconds,
      ...(sessions ? { dynamic: sessions } : {}),
    });
  };
  const mcpRuns: Record<string, LoadSample[]> = {};
  for (const c of mcpCases) await toolsCallLoad(c, settings.warmupSeconds);
  for (let round = 0; round < settings.rounds; round++) {
    for (const c of mcpCases) {
      const sample = await toolsCallLoad(c, settings.seconds);
      mcpRuns[c.key] = [...(mcpRuns[c.key] ?? []), sample];
    }
    console.log(`  round ${round + 1}/${settings.rounds} done`);
  }
  // Concurrency 1, µs resolution: the per-request cost without queueing (autocannon's latency is
  // whole milliseconds).
  const sequentialHeaders = new Map<string, Record<string, string>>();
  for (const c of mcpCases) sequentialHeaders.set(c.key, (await prepare(c)).headers);
  const sequential = await bench(
    mcpCases.map((c) => ({
      name: c.key,
      run: async () => {
        const response = await fetch(c.url, {
          method: 'POST',
          headers: sequentialHeaders.get(c.key) ?? {},
          body: TOOLS_CALL_BODY,
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${c.name}: HTTP ${response.status}`);
      },
    })),
    { rounds: settings.rounds, roundMs: 2000, warmupMs: 500 },
  );
  const mcpSummary = mcpCases.map((c) => {
    const runs = mcpRuns[c.key] ?? [];
    const single = sequential.find((result) => result.name === c.key)?.samplesUs ?? [];
    return { key: c.key, name: c.name, ...summarizeCase(runs, single) };
  });
  const bare = mcpSummary.find((row) => row.key === 'bare');
  const mcpTable = markdownTable([
    [
      'server',
      'requests/s',
      'vs no auth',
      'p50 (ms)',
      'p99 (ms)',
      'failed / requests',
      'concurrency 1: p50 (µs)',
      'p99 (µs)',
      'p50 vs no auth',
    ],
    ...mcpSummary.map((row) => [
      row.name,
      num(row.requestsPerSec, ''),
      times(ratio(row.requestsPerSec, bare?.requestsPerSec ?? Number.NaN)),
      num(row.p50Ms, ''),
      num(row.p99Ms, ''),
      `${row.failed} / ${row.requests.toLocaleString('en-US')}`,
      num(row.sequentialP50Us, ''),
      num(row.sequentialP99Us, ''),
      `${(((row.sequentialP50Us - (bare?.sequentialP50Us ?? Number.NaN)) / (bare?.sequentialP50Us ?? Number.NaN)) * 100).toFixed(1)} %`,
    ]),
  ]);
  console.log(mcpTable);

  // ---------------------------------------------------------------- 3. refresh grant
  console.log('\n3. token endpoint, refresh grant');
  const refreshSystems = [
    { key: 'sqlite', name: 'auth-server, SQLite store', issuer: authServers.sqlite.issuer },
    { key: 'redis', name: 'auth-server, Redis store', issuer: authServers.redis.issuer },
    { key: 'keycloak', name: `Keycloak ${KEYCLOAK_VERSION}`, issuer: keycloak.issuer },
  ] as const;
  const resourceOf = (key: (typeof refreshSystems)[number]['key']) =>
    key === 'keycloak' ? resources.keycloak : resources.jwt;
  const chains = Object.fromEntries(
    await Promise.all(
      refreshSystems.map(async (system) => {
        const first = await obtainToken(system.issuer, resourceOf(system.key), SCOPE);
        const newChain = async () =>
          (
            await obtainToken(system.issuer, resourceOf(system.key), SCOPE, undefined, {
              clientId: first.clientId,
            })
          ).refreshToken;
        const initial = [first.refreshToken];
        while (initial.length < settings.connections) initial.push(await newChain());
        const pool = refreshChains({
          tokenEndpoint: discovery[system.key].token_endpoint,
          clientId: first.clientId,
          initial,
          newChain,
        });
        await pool.repair(settings.connections); // fills the spares
        return [system.key, pool] as const;
      }),
    ),
  );
  /**
   * One refresh-grant run. Chains whose last request autocannon cut off when the previous run
   * ended are replaced first (`replaced`); chains that break during the run are `broken` (their
   * failed answers are in the run's failures too).
   */
  const refreshLoad = async (key: (typeof refreshSystems)[number]['key'], seconds: number) => {
    const pool = chains[key];
    if (!pool) throw new Error(`no refresh chains for ${key}`);
    const replaced = await pool.repair(settings.connections);
    pool.takeBroken();
    const sample = await refreshGrantLoad(pool, {
      tokenEndpoint: discovery[key].token_endpoint,
      connections: settings.connections,
      seconds,
    });
    return { ...sample, broken: pool.takeBroken(), replaced };
  };
  const refreshRuns: Record<string, Array<LoadSample & { broken: number; replaced: number }>> = {};
  for (const system of refreshSystems) await refreshLoad(system.key, settings.warmupSeconds);
  for (let round = 0; round < settings.rounds; round++) {
    for (const system of refreshSystems) {
      const sample = await refreshLoad(system.key, settings.seconds);
      refreshRuns[system.key] = [...(refreshRuns[system.key] ?? []), sample];
    }
    console.log(`  round ${round + 1}/${settings.rounds} done`);
  }
  const refreshSummary = refreshSystems.map((system) => {
    const runs = refreshRuns[system.key] ?? [];
    return {
      key: system.key,
      name: system.name,
      requestsPerSec: median(runs.map((run) => run.requestsPerSec)),
      p50Ms: median(runs.map((run) => run.p50Ms)),
      p99Ms: median(runs.map((run) => run.p99Ms)),
      failed: runs.reduce((sum, run) => sum + run.errors + run.non2xx, 0),
      requests: runs.reduce((sum, run) => sum + run.requests, 0),
      brokenChains: runs.reduce((sum, run) => sum + run.broken, 0),
      chainsReplacedBetweenRuns: runs.reduce((sum, run) => sum + run.replaced, 0),
      runs,
    };
  });
  const keycloakRefresh = refreshSummary.find((row) => row.key === 'keycloak');
  const refreshTable = markdownTable([
    ['token endpoint', 'refreshes/s', 'vs Keycloak', 'p50 (ms)', 'p99 (ms)', 'failed / requests'],
    ...refreshSummary.map((row) => [
      row.name,
      num(row.requestsPerSec, ''),
      times(ratio(row.requestsPerSec, keycloakRefresh?.requestsPerSec ?? Number.NaN)),
      num(row.p50Ms, ''),
      num(row.p99Ms, ''),
      `${row.failed} / ${row.requests.toLocaleString('en-US')}`,
    ]),
  ]);
  console.log(refreshTable);

  // ---------------------------------------------------------------- 6. soak
  console.log(`\n6. soak at saturation, ${settings.soakSeconds} s each`);
  // Each soak starts after a warm-up at the same load, so that the heap has grown to its working
  // size: growth during the soak is what would show a leak. The idle figure is reported too.
  const soak = async (pid: number, run: (seconds: number) => Promise<LoadSample>) => {
    const rssIdleMb = treeRss(pid).totalMb;
    const warmup = await run(settings.soakWarmupSeconds);
    const rss = sampleEvery(1000, () => treeRss(pid).totalMb);
    const sample = await run(settings.soakSeconds);
    const series = rss.stop();
    const first = series[0]?.value ?? Number.NaN;
    const last = series.at(-1)?.value ?? Number.NaN;
    return {
      ...sample,
      warmupFailed: warmup.errors + warmup.non2xx,
      rssIdleMb,
      rssStartMb: first,
      rssEndMb: last,
      rssMaxMb: Math.max(...series.map((point) => point.value)),
      growthPct: ((last - first) / first) * 100,
      rssSeries: series.map((point) => [Math.round(point.atMs / 100) / 10, point.value]),
    };
  };
  const jwtCase = mcpCases.find((c) => c.key === 'jwt');
  const jwtServer = mcpServers.jwt;
  if (!jwtCase || !jwtServer) throw new Error('the JWT MCP server is missing');
  const soakMcp = await soak(jwtServer.pid, (seconds) => toolsCallLoad(jwtCase, seconds));
  const soakToken = await soak(authServers.sqlite.pid, (seconds) => refreshLoad('sqlite', seconds));
  const soakRows = [
    ['MCP server (JWT mode), tools/call', soakMcp],
    ['auth-server (SQLite), refresh grant', soakToken],
  ] as const;
  const soakTable = markdownTable([
    [
      'soak',
      'requests',
      'requests/s',
      'p50 (ms)',
      'p99 (ms)',
      'failed',
      'RSS idle before',
      'RSS at soak start',
      'RSS end',
      'RSS max',
      'growth during soak',
    ],
    ...soakRows.map(([name, row]) => [
      name,
      row.requests.toLocaleString('en-US'),
      num(row.requestsPerSec, ''),
      num(row.p50Ms, ''),
      num(row.p99Ms, ''),
      String(row.errors + row.non2xx + row.warmupFailed),
      num(row.rssIdleMb, 'MB'),
      num(row.rssStartMb, 'MB'),
      num(row.rssEndMb, 'MB'),
      num(row.rssMaxMb, 'MB'),
      `${row.growthPct.toFixed(1)} %`,
    ]),
  ]);
  console.log(soakTable);

  const file = writeResults('under-load', environment.date, {
    benchmark: 'under-load',
    environment,
    settings,
    validation: validationSummary,
    toolsCall: mcpSummary,
    refresh: refreshSummary,
    soak: { mcp: soakMcp, tokenEndpoint: soakToken },
  });
  console.log(`\nRaw results: ${file}`);
} finally {
  await stopAll();
}
