import type { IncomingMessage } from 'node:http';

/**
 * A request body that could not be read because of the client: the connection broke off or the
 * framing was malformed (Node's HTTP parser reports `HPE_*`). Answered 400 by koa (`status`,
 * `expose`), and logged by the access log as a client mistake of this `type`, not as a fault.
 */
export class RequestBodyError extends Error {
  readonly status = 400;
  readonly expose = true;
  readonly type = 'request.body.unreadable';
  constructor(cause: unknown) {
    super('The request body could not be read', { cause });
    this.name = 'RequestBodyError';
  }
}

/**
 * Reads a whole request body, or resolves `undefined` as soon as it is larger than `maxBytes`
 * (nothing more is buffered; the answer then closes the connection, keep-alive.ts). A stream error
 * becomes a {@link RequestBodyError}.
 */
export async function readRequestBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) return undefined;
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw new RequestBodyError(error);
  }
  return Buffer.concat(chunks);
}
