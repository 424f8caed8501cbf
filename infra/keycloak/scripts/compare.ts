// `pnpm --filter @gatehouse/keycloak-runner compare`: runs the same MCP authorization flow against a
// real Keycloak (realm infra/keycloak/mcp-realm.json) and against Gatehouse's auth-server with
// AUTH_COMPAT=keycloak, and writes the differences in discovery metadata, token responses, access
// token claims and introspection responses to docs/keycloak-differences.md. Values that change on
// every run (times, ids, keys) are shown by shape, so the file only changes when behaviour does.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, obtainToken, startOnFreePort, startProcess } from '@gatehouse/testkit';
import { KEYCLOAK_VERSION, keycloakCacheDir, startKeycloak } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const INTROSPECTOR = { id: 'mcp-server', secret: 'compare-introspection-secret' };
type Json = Record<string, unknown>;

interface Observed {
  readonly issuer: string;
  readonly metadata: Json;
  readonly tokenResponse: Json;
  readonly header: Json;
  readonly claims: Json;
  readonly introspection: Json;
}

const decode = (part: string | undefined): Json =>
  JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Json;

/** One flow as an MCP client does it: DCR, PKCE, login, consent, token; then introspection. */
async function observe(issuer: string, resource: string): Promise<Observed> {
  const metadata = (await (
    await fetch(`${issuer}/.well-known/openid-configuration`)
  ).json()) as Json;
  const token = await obtainToken(issuer, resource, 'openid mcp:tools');
  const [header, payload] = token.accessToken.split('.');
  // The token response itself, from a refresh (same fields as the code exchange).
  const refreshed = await fetch(String(metadata.token_endpoint), {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: token.clientId,
      refresh_token: token.refreshToken,
    }),
  });
  const tokenResponse = (await refreshed.json()) as Json;
  const introspectionToken = await obtainToken(issuer, resource, 'openid mcp:tools');
  const introspection = (await (
    await fetch(String(metadata.introspection_endpoint), {
      method: 'POST',
      body: new URLSearchParams({
        token: introspectionToken.accessToken,
        client_id: INTROSPECTOR.id,
        client_secret: INTROSPECTOR.secret,
      }),
    })
  ).json()) as Json;
  return {
    issuer,
    metadata,
    tokenResponse,
    header: decode(header),
    claims: decode(payload),
    introspection,
  };
}

/** Run-specific URLs (free ports) replaced by their role. */
function normalise(text: string, observed: Observed): string {
  return text.split(observed.issuer).join('<issuer>').split(resource).join('<resource>');
}

/** A value as it should appear in the table: run-specific parts replaced by their shape. */
function show(value: unknown, observed: Observed, key: string): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') {
    if (['access_token', 'refresh_token', 'id_token'].includes(key)) return '*(present)*';
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
      return '*(uuid)*';
    if (['jti', 'sid', 'kid', 'session_state', 'client_id', 'azp', 'grant_id'].includes(key))
      return '*(id)*';
    return `\`${normalise(value, observed)}\``;
  }
  if (typeof value === 'number') {
    return ['exp', 'iat', 'auth_time', 'nbf'].includes(key) ? '*(epoch seconds)*' : `\`${value}\``;
  }
  if (Array.isArray(value)) {
    // Sorted: Keycloak's order of `aud` and of metadata lists changes from run to run.
    const items = value
      .map((item) => (typeof item === 'string' ? normalise(item, observed) : JSON.stringify(item)))
      .sort();
    return items.length > 12
      ? `${items.length} values: ${items.slice(0, 6).join(', ')}, …`
      : `\`${JSON.stringify(items)}\``;
  }
  return `\`${normalise(JSON.stringify(value), observed)}\``;
}

function table(
  title: string,
  left: Observed,
  right: Observed,
  pick: (o: Observed) => Json,
  note: string,
): string {
  const a = pick(left);
  const b = pick(right);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const rows: string[] = [];
  let same = 0;
  for (const key of keys) {
    const [x, y] = [show(a[key], left, key), show(b[key], right, key)];
    if (x === y) {
      same++;
      continue;
    }
    rows.push(`| \`${key}\` | ${x.replaceAll('|', '\\|')} | ${y.replaceAll('|', '\\|')} |`);
  }
  return [
    `## ${title}`,
    '',
    note,
    '',
    `${rows.length} of ${keys.length} fields differ (${same} identical after normalising the issuer, ids and times).`,
    '',
    `| Field | Keycloak ${KEYCLOAK_VERSION} | Gatehouse (AUTH_COMPAT=keycloak) |`,
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

const resource = `http://localhost:${await freePort()}/mcp`;
const [kcPort, kcManagement] = [await freePort(), await freePort()];
console.log(`> starting Keycloak ${KEYCLOAK_VERSION} and Gatehouse (AUTH_COMPAT=keycloak)`);
const keycloak = await startKeycloak({
  cacheDir: keycloakCacheDir(),
  port: kcPort,
  managementPort: kcManagement,
  mcpResource: resource,
  introspectionSecret: INTROSPECTOR.secret,
  database: 'mem',
});
// Another port when its first was taken meanwhile. LOG_LEVEL=warn prints no "ready at" line, so
// its own socket on the port (listensOn) shows the answer on /readyz is its.
const { gatehouseOrigin, gatehouse } = await startOnFreePort(async (port) => {
  const gatehouseOrigin = `http://localhost:${port}`;
  const gatehouse = await startProcess('node', ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(root, 'apps', 'auth-server'),
    env: {
      AUTH_ISSUER: gatehouseOrigin,
      AUTH_COMPAT: 'keycloak',
      AUTH_REALM: 'mcp',
      AUTH_STORE: 'memory',
      AUTH_USERS: 'alice:alice-password',
      AUTH_RESOURCES: JSON.stringify([
        { resource, scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'] },
      ]),
      // As the tutorial creates its Keycloak client: an id and a secret.
      AUTH_CLIENTS: JSON.stringify([
        { client_id: INTROSPECTOR.id, client_secret: INTROSPECTOR.secret },
      ]),
      LOG_LEVEL: 'warn',
    },
    readyUrl: `${gatehouseOrigin}/readyz`,
    listensOn: port,
  });
  return { gatehouseOrigin, gatehouse };
});
try {
  const left = await observe(keycloak.issuer, resource);
  const right = await observe(`${gatehouseOrigin}/realms/mcp`, resource);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })
    .toString()
    .trim();
  const markdown = [
    '# Keycloak and Gatehouse side by side',
    '',
    `Generated by \`pnpm --filter @gatehouse/keycloak-runner compare\` on ${new Date().toISOString().slice(0, 10)}`,
    `(Keycloak ${KEYCLOAK_VERSION} with infra/keycloak/mcp-realm.json, Gatehouse at ${commit} with`,
    '`AUTH_COMPAT=keycloak`), from one real run of the same flow on each: discovery, dynamic',
    'registration, authorization with PKCE and `resource`, login and consent as alice, code exchange,',
    'refresh, and introspection by the `mcp-server` client with client_secret_post. Only differing',
    "fields are listed; `<issuer>` stands for each server's own issuer, and run-specific values",
    '(ids, times) are shown by shape. See [keycloak.md](keycloak.md) for what the differences mean.',
    '',
    table(
      'Discovery metadata (`/.well-known/openid-configuration`)',
      left,
      right,
      (o) => o.metadata,
      'Every endpoint an MCP client uses is at the same path on both (identical rows are omitted).',
    ),
    table(
      'Token response (refresh grant)',
      left,
      right,
      (o) => o.tokenResponse,
      'What a client receives from the token endpoint.',
    ),
    table(
      'Access token header',
      left,
      right,
      (o) => o.header,
      'Keycloak types its access tokens `JWT`; Gatehouse uses RFC 9068 `at+jwt`.',
    ),
    table(
      'Access token claims',
      left,
      right,
      (o) => o.claims,
      'The claims a resource server validating JWTs sees.',
    ),
    table(
      'Introspection response',
      left,
      right,
      (o) => o.introspection,
      'Both introspect the JWT access token of the flow above (Gatehouse answers for its JWTs itself: oidc-provider introspects only the opaque tokens it stores).',
    ),
  ].join('\n');
  const target = join(root, 'docs', 'keycloak-differences.md');
  writeFileSync(target, markdown);
  // Biome formats Markdown tables too; format here so the committed file passes `biome ci`.
  execFileSync('pnpm', ['exec', 'biome', 'format', '--write', target], { cwd: root });
  console.log(`> wrote ${target}`);
} finally {
  await gatehouse.stop();
  await keycloak.stop();
}
