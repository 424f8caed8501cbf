/**
 * Starts a Keycloak through the launcher, prints `{ "baseUrl": …, "pid": … }` and waits: the process
 * the orphan test SIGKILLs (so that no exit hook of it can run).
 */
import { keycloakCacheDir, startKeycloak } from '@gatehouse/keycloak-runner';
import { freePort } from '@gatehouse/testkit';

const keycloak = await startKeycloak({
  cacheDir: keycloakCacheDir(),
  port: await freePort(),
  managementPort: await freePort(),
  mcpResource: 'http://localhost:3000/mcp',
  database: 'mem',
});
process.stdout.write(`${JSON.stringify({ baseUrl: keycloak.baseUrl, pid: keycloak.child.pid })}\n`);
setInterval(() => {}, 60_000);
