import type { ServerResponse } from 'node:http';

/**
 * The MCP SDK answers with `Connection: keep-alive` on its event streams, copied from a Web
 * Response. Connection is hop-by-hop and Node manages it: it closes the connection after the
 * answer when the client sent `Connection: close` (RFC 9112 §9.6), unless a handler sets the header
 * itself, in which case the socket stays open until the keep-alive timeout. This drops the header
 * the SDK passes to `writeHead`, so Node's own handling applies.
 */
export function dropConnectionHeader(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadWithoutConnection(
    this: ServerResponse,
    statusCode: number,
    ...rest: unknown[]
  ) {
    const headers = rest[rest.length - 1];
    if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
      const { connection: _dropped, ...others } = headers as Record<string, unknown>;
      rest[rest.length - 1] = others;
    }
    return (writeHead as (...args: unknown[]) => ServerResponse).call(this, statusCode, ...rest);
  } as ServerResponse['writeHead'];
}
