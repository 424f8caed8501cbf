import { request } from 'node:http';
import { obtainToken, rawRequest } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

/**
 * The MCP server under requests no well-behaved client sends, with a valid token so that the
 * authenticated paths are reached: each answers a clear 4xx, never a 500, and nothing is logged
 * past the JSON logger.
 */

let stack: Stack;
let token: string;
let port: number;
const mcpHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const call = (params: string) =>
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${params}}`;
const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(stack.mcpUrl, {
    method: 'POST',
    headers: { ...mcpHeaders, authorization: `Bearer ${token}`, ...headers },
    body,
  });

beforeAll(async () => {
  stack = await startStack();
  port = Number(new URL(stack.mcpUrl).port);
  token = (await obtainToken(stack.issuer, stack.mcpUrl, 'mcp:tools')).accessToken;
});
afterAll(() => stack?.stop());

describe('MCP server under hostile requests', () => {
  it('refuses JSON-RPC nested thousands of levels deep with 400, in params and tool arguments', async () => {
    for (const body of [
      call(nested(5000)),
      call(`{"name":"add_numbers","arguments":{"a":${nested(6000)},"b":1}}`),
      `[${call(`{"name":"whoami","arguments":{"x":${nested(5000)}}}`)}]`,
    ]) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32600);
    }
    // Ordinary nesting still reaches the tool.
    const response = await post(
      call(`{"name":"add_numbers","arguments":{"a":2,"b":3},"_meta":{"x":${nested(20)}}}`),
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('5');
  });

  it('answers methods Streamable HTTP does not use with 405 and Allow', async () => {
    for (const method of ['TRACE', 'PATCH', 'PUT', 'HEAD', 'PROPFIND']) {
      const response = await rawRequest(
        port,
        `${method} /mcp HTTP/1.1\r\nHost: localhost:${port}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
      expect(response.status, method).toBe(405);
      expect(response.headers.allow).toBe('GET, POST, DELETE, OPTIONS');
    }
  });

  it('serves an absolute-form request target (RFC 9112 §3.2.2), and closes when asked to', async () => {
    // rawRequest resolves when the server closes: the SDK's own `Connection: keep-alive` on event
    // streams kept the socket open until the keep-alive timeout despite `Connection: close`.
    const body = call('{"name":"add_numbers","arguments":{"a":2,"b":3}}');
    const response = await rawRequest(
      port,
      [
        `POST ${stack.mcpUrl} HTTP/1.1`,
        `Host: localhost:${port}`,
        `Authorization: Bearer ${token}`,
        'Content-Type: application/json',
        'Accept: application/json, text/event-stream',
        'Mcp-Protocol-Version: 2025-06-18',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
    expect(response.status).toBe(200);
    expect(response.body).toContain('5');
  });

  it('refuses a Host that is not a loopback name (DNS rebinding), 400 if malformed', async () => {
    for (const [host, status] of [
      ['evil.example', 421],
      [`evil.example:${port}`, 421],
      [`10.0.0.1:${port}`, 421],
      [`localhost:${port}.x`, 400],
    ] as const) {
      const response = await rawRequest(
        port,
        `GET /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
      expect(response.status, host).toBe(status);
      expect(response.raw).not.toContain('evil.example');
    }
    // An absolute-form target names the host instead of Host, and is checked the same way.
    const absolute = await rawRequest(
      port,
      `GET http://evil.example:${port}/mcp HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`,
    );
    expect(absolute.status).toBe(421);
    // Any port: a local proxy on another port may pass its own Host.
    for (const host of [`127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, 'localhost:1']) {
      const response = await rawRequest(
        port,
        `GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(response.status, host).toBe(200);
    }
  });

  it('refuses an Origin that is not written the way browsers serialise it', async () => {
    for (const origin of ['http://127.1:1', 'http://0x7f.1:1', 'http://LOCALHOST:1', 'null']) {
      const response = await post(call('{"name":"whoami","arguments":{}}'), { origin });
      expect(response.status, origin).toBe(403);
    }
    const allowed = await post(call('{"name":"whoami","arguments":{}}'), {
      origin: 'http://127.0.0.1:6274',
    });
    expect(allowed.status).toBe(200);
  });

  it('answers CONNECT with 405, and closes after an oversized body instead of hanging', async () => {
    const connect = await rawRequest(
      port,
      `CONNECT localhost:${port} HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`,
    );
    expect(connect.status).toBe(405);
    const body = `{"x":"${'a'.repeat(5 * 1024 * 1024)}"}`;
    const oversized = await rawRequest(
      port,
      [
        'POST /mcp HTTP/1.1',
        `Host: localhost:${port}`,
        `Authorization: Bearer ${token}`,
        'Content-Type: application/json',
        'Accept: application/json, text/event-stream',
        `Content-Length: ${body.length}`,
        '',
        `${body}GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`,
      ].join('\r\n'),
    );
    expect(oversized.status).toBe(413);
    expect(oversized.headers.connection).toBe('close');
  });

  it('refuses a compressed body with 415 instead of reading it as plain', async () => {
    const response = await post(call('{"name":"whoami","arguments":{}}'), {
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('accept-encoding')).toBe('identity');
  });

  it('refuses two Authorization headers', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const body = call('{"name":"whoami","arguments":{}}');
      const req = request(stack.mcpUrl, { method: 'POST', headers: mcpHeaders }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // An array value is sent as two header lines.
      req.setHeader('authorization', [`Bearer ${token}`, 'Bearer other']);
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(400);
  });

  it('logged every line above as JSON, none at error level, no line longer than the bounds allow', () => {
    const lines = stack.mcpServer.output().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: number };
      expect(entry.level, line).toBeLessThan(50);
      expect(line.length, line.slice(0, 200)).toBeLessThan(4096);
      expect(line).not.toContain(token);
    }
  });
});
