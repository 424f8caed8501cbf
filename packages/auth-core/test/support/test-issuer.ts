import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

/**
 * A stand-in authorization server for auth-core's tests: real HTTP on loopback, real keys, real
 * signatures. It serves discovery metadata, a JWKS that can be rotated or taken down, and an RFC 7662
 * introspection endpoint with client authentication; and it counts requests so tests can assert on
 * refetch and cache behaviour. (The real authorization server is apps/auth-server.)
 */

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function createSigningKey(
  alg: 'RS256' | 'ES256' | 'PS256' | 'EdDSA',
  kid: string = randomUUID(),
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

export interface TokenOptions {
  readonly key?: SigningKey;
  readonly typ?: string | null;
  readonly header?: Record<string, unknown>;
}

export type MetadataPlacement = 'rfc8414-inserted' | 'oidc-inserted' | 'oidc-appended' | 'root';

export interface TestIssuerOptions {
  /** Issuer path, e.g. `/realms/mcp`; default none. */
  readonly path?: string;
  /** Where metadata is served; default every placement that fits the issuer. */
  readonly metadataAt?: readonly MetadataPlacement[];
  /** Overrides the `issuer` member of the metadata (to test mismatches). */
  readonly metadataIssuer?: string;
  /** The resource tokens are issued for by default. */
  readonly resource?: string;
  readonly introspectionClient?: { readonly id: string; readonly secret: string };
}

export interface IntrospectionCall {
  readonly authorization: string | undefined;
  readonly form: URLSearchParams;
}

export class TestIssuer {
  readonly server: Server;
  readonly origin: string;
  readonly issuer: string;
  readonly resource: string;
  readonly rsa: SigningKey;
  readonly ec: SigningKey;
  /** Keys published at /jwks; tests replace it to rotate keys. */
  publishedKeys: JWK[];
  jwksAvailable = true;
  jwksRequests = 0;
  metadataRequests: string[] = [];
  /** Every request path, answered or not. */
  requests: string[] = [];
  introspectionCalls: IntrospectionCall[] = [];
  /** What /introspect answers for a token; default: `{ active: false }`. */
  introspectionAnswers = new Map<string, Record<string, unknown>>();
  introspectionStatus = 200;
  introspectionDelayMs = 0;
  /** The clock tokens are minted with (ms); tests that move time move this too. */
  now: () => number = Date.now;
  readonly #options: TestIssuerOptions;

  private constructor(
    server: Server,
    origin: string,
    rsa: SigningKey,
    ec: SigningKey,
    options: TestIssuerOptions,
  ) {
    this.server = server;
    this.origin = origin;
    this.issuer = `${origin}${options.path ?? ''}`;
    this.resource = options.resource ?? 'http://localhost:3000/mcp';
    this.rsa = rsa;
    this.ec = ec;
    this.publishedKeys = [rsa.publicJwk, ec.publicJwk];
    this.#options = options;
  }

  static async start(options: TestIssuerOptions = {}): Promise<TestIssuer> {
    const [rsa, ec] = await Promise.all([createSigningKey('RS256'), createSigningKey('ES256')]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const issuer = new TestIssuer(server, `http://127.0.0.1:${port}`, rsa, ec, options);
    server.on('request', (req, res) => {
      issuer.#handle(req).then(
        ({ status, body, headers }) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(body === undefined ? '' : JSON.stringify(body));
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
    return issuer;
  }

  get jwks(): JSONWebKeySet {
    return { keys: this.publishedKeys };
  }

  get jwksUri(): string {
    return `${this.origin}/jwks`;
  }

  get introspectionEndpoint(): string {
    return `${this.origin}/introspect`;
  }

  metadataPaths(): Map<string, MetadataPlacement> {
    const path = this.#options.path ?? '';
    const paths = new Map<string, MetadataPlacement>();
    if (path === '')
      paths
        .set('/.well-known/oauth-authorization-server', 'root')
        .set('/.well-known/openid-configuration', 'root');
    else {
      paths.set(`/.well-known/oauth-authorization-server${path}`, 'rfc8414-inserted');
      paths.set(`/.well-known/openid-configuration${path}`, 'oidc-inserted');
      paths.set(`${path}/.well-known/openid-configuration`, 'oidc-appended');
    }
    const wanted = this.#options.metadataAt;
    for (const [p, placement] of paths) if (wanted && !wanted.includes(placement)) paths.delete(p);
    return paths;
  }

  /** Signs an access token with sensible RFC 9068 defaults, overridden by `claims`. */
  async token(
    claims: JWTPayload & Record<string, unknown> = {},
    options: TokenOptions = {},
  ): Promise<string> {
    const key = options.key ?? this.rsa;
    const now = Math.floor(this.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'alice',
      aud: this.resource,
      client_id: 'client-1',
      scope: 'mcp:tools',
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...claims,
    };
    for (const [name, value] of Object.entries(payload))
      if (value === undefined) delete payload[name];
    const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, ...options.header };
    if (options.typ !== null) header.typ = options.typ ?? 'at+jwt';
    return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(
    req: IncomingMessage,
  ): Promise<{ status: number; body?: unknown; headers?: Record<string, string> }> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    this.requests.push(path);
    if (path === '/redirect-to-jwks') return { status: 302, headers: { location: this.jwksUri } };
    if (this.metadataPaths().has(path)) {
      this.metadataRequests.push(path);
      return {
        status: 200,
        body: {
          issuer: this.#options.metadataIssuer ?? this.issuer,
          jwks_uri: this.jwksUri,
          introspection_endpoint: this.introspectionEndpoint,
          token_endpoint: `${this.origin}/token`,
          authorization_endpoint: `${this.origin}/authorize`,
        },
      };
    }
    if (path === '/jwks') {
      this.jwksRequests += 1;
      return this.jwksAvailable ? { status: 200, body: this.jwks } : { status: 503 };
    }
    if (path === '/introspect' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      this.introspectionCalls.push({ authorization: req.headers.authorization, form });
      if (this.introspectionDelayMs > 0)
        await new Promise((r) => setTimeout(r, this.introspectionDelayMs));
      if (this.introspectionStatus !== 200)
        return { status: this.introspectionStatus, body: { error: 'server_error' } };
      if (!this.#clientAuthenticated(req.headers.authorization, form))
        return { status: 401, body: { error: 'invalid_client' } };
      return {
        status: 200,
        body: this.introspectionAnswers.get(form.get('token') ?? '') ?? { active: false },
      };
    }
    return { status: 404, body: { error: 'not_found' } };
  }

  #clientAuthenticated(authorization: string | undefined, form: URLSearchParams): boolean {
    const client = this.#options.introspectionClient ?? { id: 'mcp-server', secret: 'mcp-secret' };
    if (authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const [id, secret] = decoded
        .split(':')
        .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
      return id === client.id && secret === client.secret;
    }
    return form.get('client_id') === client.id && form.get('client_secret') === client.secret;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Collects log lines so tests can assert on them (and on what they must never contain). */
export function recordingLogger(): {
  lines: Array<{ fields: Record<string, unknown>; message: string }>;
  warn: (fields: Record<string, unknown>, message: string) => void;
} {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return { lines, warn: (fields, message) => lines.push({ fields, message }) };
}
