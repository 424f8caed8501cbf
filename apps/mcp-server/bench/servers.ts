/**
 * Two MCP servers in one process for the side-by-side benchmark: the real app (auth-core in front)
 * and the same SDK handler and tools with nothing in front. Ports come from argv; prints "ready".
 */
import { createLogger } from '@gatehouse/logging';
import { createMcpApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { listenBare } from './bare-server.js';

const [authPort, barePort, issuer] = process.argv.slice(2);
const logger = createLogger({ service: 'bench', level: 'warn', format: 'json' });
const config = loadConfig({
  MCP_RESOURCE: `http://localhost:${authPort}/mcp`,
  AUTH_ISSUER: issuer,
  LOG_LEVEL: 'warn',
  // One token drives the load: the per-user limit would measure 429s.
  MCP_RATE_LIMIT: 'off',
});
const withAuth = createMcpApp(config, logger);
await withAuth.listen();
await withAuth.resourceServer.verifier.warm();
listenBare(Number(barePort), () => process.stdout.write('ready\n'));
