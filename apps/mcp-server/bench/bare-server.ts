/**
 * The MCP server's SDK handler and tools with nothing in front (no Origin check, no auth): the
 * "auth off" baseline of the benchmarks. Never a way to run the app; only benchmarks start it.
 * Run directly (`node --import tsx bench/bare-server.ts <port>`), it listens on 127.0.0.1:<port>
 * and prints "ready".
 */
import type { Server } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import Koa from 'koa';
import { createMcpServerFactory } from '../src/server.js';

export function listenBare(port: number, onListening: () => void): Server {
  const handle = toNodeHandler(
    // No audit either: the baseline is the SDK and the tools alone.
    createMcpHandler(
      createMcpServerFactory(Date.now(), () => {}),
      { legacy: 'stateless' },
    ),
  );
  const bare = new Koa();
  bare.use(async (ctx) => {
    ctx.respond = false;
    await handle(ctx.req as Parameters<typeof handle>[0], ctx.res);
  });
  return bare.listen(port, '127.0.0.1', onListening);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  listenBare(Number(process.argv[2]), () => process.stdout.write('ready\n'));
}
