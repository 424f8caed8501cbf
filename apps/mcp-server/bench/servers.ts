/**
 * Two MCP servers in one process for the side-by-side benchmark: the real app (auth-core in front)
 * and the same SDK handler and tools with nothing in front. Ports come from argv; prints "ready".
 */
import { createLogger } from '@gatehouse/logging';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import Koa from 'koa';
import { createMcpApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createMcpServerFactory } from '../src/server.js';

const [authPort, barePort, issuer] = process.argv.slice(2);
const logger = createLogger({ service: 'bench', level: 'warn', format: 'json' });
const config = loadConfig({
  MCP_RESOURCE: `http://localhost:${authPort}/mcp`,
  AUTH_ISSUER: issuer,
  LOG_LEVEL: 'warn',
});
const withAuth = createMcpApp(config, logger);
await withAuth.listen();
await withAuth.resourceServer.verifier.warm();

const handle = toNodeHandler(
  createMcpHandler(createMcpServerFactory(Date.now()), { legacy: 'stateless' }),
);
const bare = new Koa();
bare.use(async (ctx) => {
  ctx.respond = false;
  await handle(ctx.req as Parameters<typeof handle>[0], ctx.res);
});
bare.listen(Number(barePort), '127.0.0.1', () => process.stdout.write('ready\n'));
