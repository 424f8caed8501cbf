// `pnpm keycloak`: a real Keycloak on 127.0.0.1:8180 with the `mcp` realm, for `pnpm dev:keycloak`
// and for trying the swap by hand. Stops cleanly on Ctrl-C.
import { keycloakCacheDir } from './distribution.js';
import { KEYCLOAK_VERSION, REALM, startKeycloak } from './launcher.js';

const cacheDir = keycloakCacheDir();
const port = Number(process.env.KEYCLOAK_PORT ?? 8180);
// Keycloak's management interface (health, metrics); default KEYCLOAK_PORT + 1000.
const managementPort = Number(process.env.KEYCLOAK_MANAGEMENT_PORT ?? port + 1000);
const mcpResource = process.env.MCP_RESOURCE ?? 'http://localhost:3000/mcp';
const features = (process.env.KEYCLOAK_FEATURES ?? '').split(',').filter(Boolean);

console.log(`> Keycloak ${KEYCLOAK_VERSION}, realm "${REALM}", MCP resource ${mcpResource}`);
const keycloak = await startKeycloak({
  cacheDir,
  port,
  managementPort,
  mcpResource,
  // In memory by default, so the realm always matches infra/keycloak/mcp-realm.json (an existing
  // realm is never re-imported); KEYCLOAK_DB_DIR keeps registrations and sessions across restarts.
  database: process.env.KEYCLOAK_DB_DIR ? { dir: process.env.KEYCLOAK_DB_DIR } : 'mem',
  features,
  log: (line) => console.log(`> ${line}`),
  ...(process.env.KEYCLOAK_VERBOSE
    ? { onOutput: (chunk: string) => process.stdout.write(chunk) }
    : {}),
}).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});

console.log(`
  Keycloak ready in ${(keycloak.readyAfterMs / 1000).toFixed(1)} s
  Issuer:         ${keycloak.issuer}
  Admin console:  ${keycloak.baseUrl}/admin  (admin / admin)
  Test users:     alice / alice-password (mcp:tools, mcp:admin), bob / bob-password (mcp:tools)
  Introspection:  client "mcp-server", secret from KC_MCP_INTROSPECTION_SECRET (default "mcp-server-introspection-secret")
  Run the MCP server against it: pnpm dev:keycloak   (Ctrl-C stops Keycloak)
`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log('> stopping Keycloak');
  await keycloak.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
keycloak.child.on('exit', (code) => {
  if (!stopping) {
    console.error(`Keycloak exited (${code}):\n${keycloak.output().slice(-4000)}`);
    process.exit(1);
  }
});
