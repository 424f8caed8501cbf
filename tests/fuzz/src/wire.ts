/**
 * HTTP/1.1 on the wire, both ways, without Node's HTTP client: it refuses to send most of what a
 * fuzzer needs (control characters in headers, repeated Host, absolute-form targets, wrong
 * Content-Length), and it hides how a connection ended, which is exactly what is checked here.
 */

export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface HttpRequest {
  readonly method: string;
  /** Origin-form (`/path?q`), absolute-form (`http://host/path`), asterisk-form (`*`), or junk. */
  readonly target: string;
  /** `HTTP/1.1` unless a mutation says otherwise. */
  readonly version: string;
  readonly headers: HeaderList;
  readonly body: Buffer | undefined;
  /** Send the body chunked instead of with Content-Length. */
  readonly chunked: boolean;
}

/**
 * The request's bytes. Header names and values are written as latin1, so every byte value can be
 * sent as is; Content-Length (or the chunked framing) is added for a body unless a header of that
 * name is already there (a mutation chose it).
 */
export function serializeRequest(request: HttpRequest): Buffer {
  const has = (name: string) => request.headers.some(([n]) => n.toLowerCase() === name);
  const lines = [`${request.method} ${request.target} ${request.version}`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const body = request.body;
  if (body && request.chunked) {
    if (!has('transfer-encoding')) lines.push('Transfer-Encoding: chunked');
  } else if (body && !has('content-length')) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  if (!body) return head;
  if (!request.chunked) return Buffer.concat([head, body]);
  // Chunks of varying size, so chunk boundaries fall inside multi-byte characters too.
  const parts: Buffer[] = [head];
  for (let offset = 0; offset < body.length; offset += 4096 + (offset % 7)) {
    const chunk = body.subarray(offset, offset + 4096 + (offset % 7));
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF);
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

export interface ParsedResponse {
  readonly statusLine: string;
  readonly status: number;
  /** Lower-cased names, in order, repeated names kept. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  /** False when the connection ended before the framing said the body was complete. */
  readonly complete: boolean;
  /** An event stream that was still open when reading stopped (not an error). */
  readonly streaming: boolean;
}

export function headerValue(response: ParsedResponse, name: string): string | undefined {
  return response.headers.find(([n]) => n === name)?.[1];
}

/** Whether the server said it closes the connection after this response. */
export function closesConnection(response: ParsedResponse): boolean {
  const connection = (headerValue(response, 'connection') ?? '').toLowerCase();
  if (connection.split(',').some((token) => token.trim() === 'close')) return true;
  return response.statusLine.startsWith('HTTP/1.0') && !connection.includes('keep-alive');
}

type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' };

interface PendingHead {
  statusLine: string;
  status: number;
  headers: Array<[string, string]>;
  framing: BodyFraming;
}

/**
 * Reads the responses of one connection as bytes arrive: status line, headers, and a body framed by
 * Content-Length, chunked encoding or the end of the connection. Interim 1xx answers are skipped
 * (101 is final). `methods` are the requests' methods in order: a HEAD answer has no body.
 */
export class ResponseReader {
  readonly responses: ParsedResponse[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #head: PendingHead | undefined;
  #bodyParts: Buffer[] = [];
  #bodyLength = 0;
  #chunkRemaining = -1;
  #chunkTrailer = false;
  #received = 0;
  readonly #methods: readonly string[];
  /** A malformed answer: reading stopped, what came so far is kept. */
  malformed = false;

  constructor(methods: readonly string[]) {
    this.#methods = methods;
  }

  /** Every byte the server sent on this connection. */
  get received(): number {
    return this.#received;
  }

  /** The response whose head arrived but whose body did not complete yet. */
  get pending(): ParsedResponse | undefined {
    if (!this.#head) return undefined;
    return this.#build(false);
  }

  push(chunk: Buffer): void {
    this.#received += chunk.length;
    if (this.malformed) return;
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#step()) {
      // each step consumes a head, a body part or a whole response
    }
  }

  /** The connection ended: a body delimited by the close completes, anything else is cut short. */
  end(): void {
    if (this.#head?.framing.kind === 'close') {
      this.#bodyParts.push(this.#buffer);
      this.#bodyLength += this.#buffer.length;
      this.#buffer = Buffer.alloc(0);
      this.#finish(true);
    }
  }

  #step(): boolean {
    if (!this.#head) return this.#readHead();
    const framing = this.#head.framing;
    switch (framing.kind) {
      case 'none':
        this.#finish(true);
        return true;
      case 'length': {
        const want = framing.length - this.#bodyLength;
        const take = this.#buffer.subarray(0, want);
        this.#bodyParts.push(take);
        this.#bodyLength += take.length;
        this.#buffer = this.#buffer.subarray(take.length);
        if (this.#bodyLength >= framing.length) {
          this.#finish(true);
          return true;
        }
        return false;
      }
      case 'chunked':
        return this.#readChunk();
      case 'close':
        this.#bodyParts.push(this.#buffer);
        this.#bodyLength += this.#buffer.length;
        this.#buffer = Buffer.alloc(0);
        return false;
    }
  }

  #readHead(): boolean {
    if (this.#buffer.length === 0) return false;
    const end = this.#buffer.indexOf(HEAD_END);
    if (end < 0) {
      if (this.#buffer.length > 1_000_000) this.malformed = true;
      return false;
    }
    const lines = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    this.#buffer = this.#buffer.subarray(end + 4);
    const statusLine = lines[0] ?? '';
    const match = /^HTTP\/\d\.\d (\d{3})(?: |$)/.exec(statusLine);
    if (!match) {
      this.malformed = true;
      return false;
    }
    const status = Number(match[1]);
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0)
        headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
    if (status >= 100 && status < 200 && status !== 101) return true; // interim answer
    const method = (this.#methods[this.responses.length] ?? 'GET').toUpperCase();
    const get = (name: string) => headers.find(([n]) => n === name)?.[1];
    let framing: BodyFraming;
    if (method === 'HEAD' || status === 204 || status === 304) framing = { kind: 'none' };
    else if (/chunked/i.test(get('transfer-encoding') ?? '')) framing = { kind: 'chunked' };
    else if (get('content-length') !== undefined && /^\d+$/.test(get('content-length') ?? ''))
      framing = { kind: 'length', length: Number(get('content-length')) };
    else framing = { kind: 'close' };
    this.#head = { statusLine, status, headers, framing };
    this.#bodyParts = [];
    this.#bodyLength = 0;
    this.#chunkRemaining = -1;
    this.#chunkTrailer = false;
    return true;
  }

  #readChunk(): boolean {
    if (this.#chunkTrailer) {
      // After the last chunk: optional trailer fields, then an empty line.
      const end = this.#buffer.indexOf(CRLF);
      if (end < 0) return false;
      const line = this.#buffer.subarray(0, end);
      this.#buffer = this.#buffer.subarray(end + 2);
      if (line.length === 0) {
        this.#finish(true);
        return true;
      }
      return true;
    }
    if (this.#chunkRemaining < 0) {
      const end = this.#buffer.indexOf(CRLF);
      if (end < 0) return false;
      const size = Number.parseInt(this.#buffer.subarray(0, end).toString('latin1'), 16);
      this.#buffer = this.#buffer.subarray(end + 2);
      if (!Number.isFinite(size) || size < 0) {
        this.malformed = true;
        return false;
      }
      if (size === 0) {
        this.#chunkTrailer = true;
        return true;
      }
      this.#chunkRemaining = size;
      return true;
    }
    if (this.#chunkRemaining > 0) {
      const take = this.#buffer.subarray(0, this.#chunkRemaining);
      this.#bodyParts.push(take);
      this.#bodyLength += take.length;
      this.#chunkRemaining -= take.length;
      this.#buffer = this.#buffer.subarray(take.length);
      if (this.#chunkRemaining > 0) return false;
    }
    // The CRLF after the chunk's data.
    if (this.#buffer.length < 2) return false;
    this.#buffer = this.#buffer.subarray(2);
    this.#chunkRemaining = -1;
    return true;
  }

  #build(complete: boolean): ParsedResponse {
    const head = this.#head as PendingHead;
    const contentType = head.headers.find(([n]) => n === 'content-type')?.[1] ?? '';
    return {
      statusLine: head.statusLine,
      status: head.status,
      headers: head.headers,
      body: Buffer.concat(this.#bodyParts),
      complete,
      streaming: !complete && /text\/event-stream/i.test(contentType),
    };
  }

  #finish(complete: boolean): void {
    this.responses.push(this.#build(complete));
    this.#head = undefined;
    this.#bodyParts = [];
    this.#bodyLength = 0;
  }
}
