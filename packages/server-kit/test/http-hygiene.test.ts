import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { createLogger } from '@gatehouse/logging';
import { rawRequest } from '@gatehouse/testkit';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostGuard,
  jsonDepthWithin,
  logAppErrors,
  parseHostHeader,
  RequestBodyError,
  readRequestBody,
  recordFailure,
  requestHygiene,
  requestLog,
} from '../src/index.js';

/**
 * server-kit's middlewares in a real koa app over real HTTP, with the log written to a stream the
 * test reads: what each refuses, and that every 5xx leaves exactly one error line with its reason.
 */

const logStream = new PassThrough();
let logText = '';
logStream.on('data', (chunk: Buffer) => {
  logText += chunk.toString('utf8');
});
const logLines = () =>
  logText
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown> & { level: number });

let server: ReturnType<Koa['listen']>;
let port: number;
const raw = (lines: string[], body = '') =>
  rawRequest(port, `${[...lines, 'Connection: close', '', ''].join('\r\n')}${body}`);

beforeAll(async () => {
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    format: 'json',
    destination: logStream,
  });
  const app = new Koa();
  app.use(requestLog(logger, ['/healthz']));
  app.use(requestHygiene());
  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz') ctx.body = 'ok';
    else await next();
  });
  app.use(hostGuard({ origin: 'http://localhost:4000', proxy: false }));
  app.use(async (ctx) => {
    if (ctx.path === '/fault') throw new Error('the database is on fire');
    if (ctx.path === '/recorded') {
      recordFailure(ctx.req, { reason: 'upstream said no' });
      ctx.status = 503;
      return;
    }
    if (ctx.path === '/teapot') ctx.throw(418, 'short and stout');
    if (ctx.path === '/body') {
      const body = await readRequestBody(ctx.req, 16);
      ctx.body = body === undefined ? 'too large' : body.toString('utf8');
      return;
    }
    ctx.body = { host: ctx.host, url: ctx.url, href: ctx.href };
  });
  logAppErrors(app, logger);
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('jsonDepthWithin', () => {
  it('counts brackets outside strings only, without recursion', () => {
    expect(jsonDepthWithin('[[[]]]', 3)).toBe(true);
    expect(jsonDepthWithin('[[[[]]]]', 3)).toBe(false);
    expect(jsonDepthWithin('{"a":{"b":[1]}}', 3)).toBe(true);
    expect(jsonDepthWithin('{"a":{"b":[[1]]}}', 3)).toBe(false);
    expect(jsonDepthWithin(`{"s":"${'['.repeat(1000)}"}`, 2)).toBe(true);
    expect(jsonDepthWithin(`{"s":"\\"${'['.repeat(5)}"}`, 2)).toBe(true);
    expect(jsonDepthWithin(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBe(false);
  });
});

describe('parseHostHeader', () => {
  it('normalises valid authorities and refuses the rest', () => {
    expect(parseHostHeader('LocalHost:4000', 'http:')).toEqual({
      hostname: 'localhost',
      port: '4000',
    });
    expect(parseHostHeader('auth.example.com', 'https:')).toEqual({
      hostname: 'auth.example.com',
      port: '443',
    });
    expect(parseHostHeader('auth.example.com:443', 'https:')?.port).toBe('443');
    expect(parseHostHeader('[::1]:4000', 'http:')?.hostname).toBe('[::1]');
    for (const bad of [
      'localhost:4000.x',
      'localhost:99999',
      'a b',
      'a@b',
      'a/b',
      'a\\b',
      '',
      ':80',
      'a:',
      'a?b',
    ])
      expect(parseHostHeader(bad, 'http:'), bad).toBeUndefined();
  });
});

describe('requestHygiene and hostGuard', () => {
  it('serves an absolute-form target as its origin form, with the target authority as Host', async () => {
    const response = await raw(['GET http://localhost:4000/x?y=1 HTTP/1.1', 'Host: ignored']);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      host: 'localhost:4000',
      url: '/x?y=1',
      href: 'http://localhost:4000/x?y=1',
    });
    expect((await raw(['GET http://evil.example/x HTTP/1.1', 'Host: localhost:4000'])).status).toBe(
      421,
    );
    expect(
      (await raw(['GET ftp://localhost:4000/x HTTP/1.1', 'Host: localhost:4000'])).status,
    ).toBe(400);
    expect(
      (await raw(['GET http://u:p@localhost:4000/x HTTP/1.1', 'Host: localhost:4000'])).status,
    ).toBe(400);
    const star = await raw(['OPTIONS * HTTP/1.1', 'Host: localhost:4000']);
    expect(star.status).toBe(204);
  });

  it('refuses fields that must appear once, and compressed bodies', async () => {
    for (const name of ['Authorization', 'Content-Type', 'DPoP']) {
      const response = await raw([
        'POST /x HTTP/1.1',
        'Host: localhost:4000',
        `${name}: a`,
        `${name}: b`,
        'Content-Length: 0',
      ]);
      expect(response.status, name).toBe(400);
    }
    const gzip = await raw([
      'POST /x HTTP/1.1',
      'Host: localhost:4000',
      'Content-Encoding: gzip',
      'Content-Length: 0',
    ]);
    expect(gzip.status).toBe(415);
    const identity = await raw([
      'POST /x HTTP/1.1',
      'Host: localhost:4000',
      'Content-Encoding: identity',
      'Content-Length: 0',
    ]);
    expect(identity.status).toBe(200);
  });

  it('answers only its own host names (loopback aliases, any port), except exempt paths', async () => {
    for (const host of [
      'localhost:4000',
      '127.0.0.1:4000',
      '[::1]:4000',
      'localhost',
      'localhost:1',
    ]) {
      expect((await raw(['GET /x HTTP/1.1', `Host: ${host}`])).status, host).toBe(200);
    }
    for (const host of [
      'evil.example',
      'evil.example:4000',
      '10.0.0.1:4000',
      'localhost.evil.example',
    ]) {
      expect((await raw(['GET /x HTTP/1.1', `Host: ${host}`])).status, host).toBe(421);
    }
    expect((await raw(['GET /x HTTP/1.1', 'Host: localhost:4000.x'])).status).toBe(400);
    // HTTP/1.0 may omit Host.
    expect((await rawRequest(port, 'GET /x HTTP/1.0\r\n\r\n')).status).toBe(200);
    expect((await raw(['GET /healthz HTTP/1.1', 'Host: evil.example'])).status).toBe(200);
  });
});

describe('readRequestBody', () => {
  it('stops at the limit, and turns a broken stream into a 400 client error', async () => {
    const small = await raw(
      ['POST /body HTTP/1.1', 'Host: localhost:4000', 'Content-Length: 5'],
      'hello',
    );
    expect(small.body).toBe('hello');
    const large = await raw(
      ['POST /body HTTP/1.1', 'Host: localhost:4000', 'Content-Length: 20'],
      'x'.repeat(20),
    );
    expect(large.body).toBe('too large');
    expect(new RequestBodyError(new Error('x')).status).toBe(400);
  });
});

describe('the access log', () => {
  it('writes every 5xx once, at error level, with the reason and the request id', async () => {
    logText = '';
    const fault = await raw([
      'GET /fault HTTP/1.1',
      'Host: localhost:4000',
      'X-Request-Id: req-fault',
    ]);
    expect(fault.status).toBe(500);
    // The message went to the log, not to the client.
    expect(fault.raw).not.toContain('fire');
    const recorded = await raw([
      'GET /recorded HTTP/1.1',
      'Host: localhost:4000',
      'X-Request-Id: req-recorded',
    ]);
    expect(recorded.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const errors = logLines().filter((line) => line.level >= 50);
    expect(errors.map((line) => [line.requestId, line.status, line.reason])).toEqual([
      ['req-fault', 500, 'the database is on fire'],
      ['req-recorded', 503, 'upstream said no'],
    ]);
    expect(JSON.stringify(errors[0])).toContain('at ');
  });

  it('writes client mistakes below error level, with their kind, and bounds what a client controls', async () => {
    logText = '';
    expect((await raw(['GET /teapot HTTP/1.1', 'Host: localhost:4000'])).status).toBe(418);
    expect(
      (await raw([`GET /${'a'.repeat(15_000)} HTTP/1.1`, 'Host: localhost:4000'])).status,
    ).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = logLines();
    expect(lines.every((line) => line.level < 50)).toBe(true);
    expect(lines.find((line) => line.status === 418)?.msg).toBe('request refused');
    const long = lines.find((line) => String(line.path).startsWith('/aaa'));
    expect(String(long?.path).length).toBeLessThan(300);
    expect(logText.split('\n').every((line) => line.length < 2000)).toBe(true);
  });
});
