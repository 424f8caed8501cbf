import { connect } from 'node:net';

/** What came back for a raw request: the parsed status line and headers, and the body as text. */
export interface RawResponse {
  /** 0 when the connection closed without any answer. */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Everything the server wrote, as text. */
  readonly raw: string;
}

/**
 * Sends `request` byte for byte over a new TCP connection and reads until the server closes it (or
 * `timeoutMs` passes), for requests no HTTP client would send: absolute-form targets, repeated or
 * malformed headers, broken framing. Send `Connection: close` to get the answer promptly.
 */
export function rawRequest(
  port: number,
  request: string | Buffer,
  options: { host?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, options.host ?? '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of answer within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset after the answer still resolves on close
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({ status, headers, body: rest.join('\r\n\r\n'), raw });
    });
  });
}
