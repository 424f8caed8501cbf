import { connect, type Socket } from 'node:net';
import { closesConnection, type ParsedResponse, ResponseReader } from './wire.js';

/** One request (or several pipelined ones) as bytes, and how to send it. */
export interface Exchange {
  readonly bytes: Buffer;
  /** The method of each request in `bytes`, in order (HEAD answers have no body). */
  readonly methods: readonly string[];
  /** A connection of its own, closed afterwards: the framing may be broken on purpose. */
  readonly fresh: boolean;
  /** Close our side once written (a truncated request: the server sees the end of the stream). */
  readonly halfClose: boolean;
  /** Identifies the exchange (the request index), to say which one a connection served before. */
  readonly index: number;
}

export interface ExchangeResult {
  readonly responses: readonly ParsedResponse[];
  /** Every byte the server wrote during this exchange (capped), for the reflected-host scan. */
  readonly raw: Buffer;
  /** Every byte of the request was handed to the kernel. */
  readonly sent: boolean;
  /** No complete answer within the time limit. */
  readonly timedOut: boolean;
  /** The server closed or reset the connection during the exchange. */
  readonly closed: boolean;
  /** The socket error, e.g. ECONNRESET, when there was one. */
  readonly error: string | undefined;
  /** Sent on a kept-alive connection that an earlier exchange used. */
  readonly reused: boolean;
  /** The `tag` of the exchange before this one on the same connection, if reused. */
  readonly after: number | undefined;
}

const RAW_CAP = 4 * 1024 * 1024;

export interface PoolOptions {
  readonly port: number;
  /** Source address (a loopback address of its own per worker: per-IP limits stay per worker). */
  readonly localAddress: string | undefined;
  readonly timeoutMs: number;
  /** How long an open event stream is read before it counts as answered and is closed. */
  readonly streamGraceMs: number;
}

/**
 * One worker's connection to one app: a kept-alive socket reused while it stays idle for less than
 * a second. Node's servers close idle keep-alive connections after some seconds (5 by default, 65
 * in our apps); reusing only fresh ones means such a close racing with our next request cannot be
 * mistaken for a dropped request.
 */
export class ConnectionPool {
  readonly #options: PoolOptions;
  #idle: { socket: Socket; since: number; last: number } | undefined;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  async send(exchange: Exchange): Promise<ExchangeResult> {
    let socket: Socket | undefined;
    let after: number | undefined;
    const idle = this.#idle;
    this.#idle = undefined;
    if (idle && !exchange.fresh && Date.now() - idle.since < 1000 && !idle.socket.destroyed) {
      socket = idle.socket;
      after = idle.last;
    } else idle?.socket.destroy();
    if (!socket) socket = await this.#open();
    const result = await this.#exchange(socket, exchange, after);
    const last = result.responses[result.responses.length - 1];
    const keep =
      !exchange.fresh &&
      !result.closed &&
      !result.timedOut &&
      result.responses.length === exchange.methods.length &&
      last?.complete === true &&
      !closesConnection(last);
    if (keep) this.#idle = { socket, since: Date.now(), last: exchange.index };
    else socket.destroy();
    return result;
  }

  close(): void {
    this.#idle?.socket.destroy();
    this.#idle = undefined;
  }

  #open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        port: this.#options.port,
        host: '127.0.0.1',
        ...(this.#options.localAddress ? { localAddress: this.#options.localAddress } : {}),
        noDelay: true,
      });
      const onError = (error: Error) => reject(error);
      socket.once('error', onError);
      // A reset while the socket sits idle must not become an uncaught 'error' event.
      socket.on('error', () => {});
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(socket);
      });
    });
  }

  #exchange(
    socket: Socket,
    exchange: Exchange,
    after: number | undefined,
  ): Promise<ExchangeResult> {
    return new Promise((resolve) => {
      const reader = new ResponseReader(exchange.methods);
      const raw: Buffer[] = [];
      let rawLength = 0;
      let sent = false;
      let closed = false;
      let error: string | undefined;
      let settled = false;
      let streamTimer: NodeJS.Timeout | undefined;

      const finish = (timedOut: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(streamTimer);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
        const responses = [...reader.responses];
        const pending = reader.pending;
        // An open event stream is an answer; anything else cut short is reported as incomplete.
        // Bytes past the answers we asked for (a 400 for the junk after a body) are not ours.
        if (pending && responses.length < exchange.methods.length) responses.push(pending);
        resolve({
          responses,
          raw: Buffer.concat(raw),
          sent,
          timedOut,
          closed,
          error,
          reused: after !== undefined,
          after,
        });
      };
      const done = () => {
        const all = reader.responses;
        if (all.length >= exchange.methods.length) return true;
        const last = all[all.length - 1];
        return last !== undefined && closesConnection(last) && !exchange.halfClose;
      };
      const onData = (chunk: Buffer) => {
        if (rawLength < RAW_CAP) {
          raw.push(chunk);
          rawLength += chunk.length;
        }
        reader.push(chunk);
        if (reader.malformed) return finish(false);
        if (done()) return finish(false);
        if (!streamTimer && reader.pending?.streaming)
          streamTimer = setTimeout(() => finish(false), this.#options.streamGraceMs);
      };
      const onError = (e: Error) => {
        error = (e as NodeJS.ErrnoException).code ?? e.message;
      };
      const onClose = () => {
        closed = true;
        reader.end();
        finish(false);
      };
      const timer = setTimeout(() => finish(true), this.#options.timeoutMs);
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.write(exchange.bytes, (writeError) => {
        if (!writeError) sent = true;
        if (exchange.halfClose && !socket.destroyed) socket.end();
      });
    });
  }
}
