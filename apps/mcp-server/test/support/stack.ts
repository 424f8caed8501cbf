import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type StartedProcess, startMcpServerApp, startOnFreePort } from '@gatehouse/testkit';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

/**
 * What the MCP server's suites run against: an authorization server reduced to what a JWT-mode
 * resource server fetches (discovery metadata and a JWKS on loopback, tokens signed here with an
 * ES256 key), and the MCP server itself as a real process.
 */

export interface TestIssuer {
  readonly issuer: string;
  /** An RFC 9068 access token for `resource` (alice, client-1, mcp:tools), overridden by `claims`. */
  token(resource: string, claims?: JWTPayload & Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256' };
  let issuer = '';
  const server = createServer((req, res) => {
    const body =
      req.url === '/.well-known/oauth-authorization-server'
        ? { issuer, jwks_uri: `${issuer}/jwks` }
        : req.url === '/jwks'
          ? { keys: [publicJwk] }
          : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { error: 'not_found' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    token(resource, claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: issuer,
        sub: 'alice',
        aud: resource,
        client_id: 'client-1',
        scope: 'mcp:tools',
        iat: now,
        exp: now + 300,
        jti: randomUUID(),
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .sign(privateKey);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface RunningMcpServer {
  /** The URL this instance answers on (`http://127.0.0.1:<port>/mcp`). */
  readonly url: string;
  readonly process: StartedProcess;
}

/**
 * One MCP server process on a port of its own (another one when that was taken meanwhile), for
 * `resource` and trusting `issuer` (testkit's launcher: the workspace packages' sources, no build).
 */
export function startMcpServer(
  issuer: string,
  resource: string,
  env: Record<string, string> = {},
): Promise<RunningMcpServer> {
  return startOnFreePort(async (port) => {
    const process = await startMcpServerApp({
      port,
      env: { MCP_RESOURCE: resource, AUTH_ISSUER: issuer, LOG_FORMAT: 'json', ...env },
    });
    return { url: `http://127.0.0.1:${port}/mcp`, process };
  });
}

/** A JSON-RPC POST to an MCP endpoint as a Streamable HTTP client sends it (token optional). */
export function postMcp(url: string, token: string | undefined, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
