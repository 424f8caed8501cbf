import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';

/**
 * A self-contained OAuth 2.1 authorization server plus MCP resource server on one origin, for
 * testing "gatehouse doctor". Healthy, it follows the MCP authorization spec to the letter (RFC 9728
 * PRM, RFC 8414 metadata, RFC 7591 DCR, PKCE S256 only, RFC 8707 resource as the token audience,
 * RFC 9207 `iss`, refresh-token rotation with a reuse grace); each flag breaks exactly one thing.
 */
export type Misconfiguration =
  /** PRM `resource` is the MCP URL with a trailing slash added (RFC 9728 §3.3 mismatch). */
  | 'wrong-resource'
  /** The 401 challenge is `Bearer scope="mcp:tools"`, without resource_metadata. */
  | 'no-resource-metadata'
  /** AS metadata `issuer` has a trailing '/' (as Keycloak's tutorial realm); nothing else changes. */
  | 'issuer-mismatch'
  /** `code_challenge_methods_supported` is absent from AS metadata (S256 still works). */
  | 'no-s256'
  /** Metadata lists S256 and plain, and /authorize accepts plain (and a missing method as plain). */
  | 'plain-allowed'
  /** Authorization responses carry no `iss`, though metadata still claims they do. */
  | 'no-iss-on-callback'
  /** Access token `aud` is the client_id, not the resource (and the resource server accepts it). */
  | 'aud-not-resource'
  /** PRM scopes_supported lists offline_access too. */
  | 'offline-access-in-prm'
  /** MCP endpoint responses lack Access-Control-Expose-Headers (browsers can't read the challenge). */
  | 'cors-no-expose'
  /** The MCP endpoint's 401 has no WWW-Authenticate at all (PRM is still served). */
  | 'no-challenge'
  /** DCR answers a client_secret (expiring never) even for token_endpoint_auth_method 'none'. */
  | 'secret-for-public-client';

export interface MisconfiguredServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** The origin itself: no path, no trailing slash. */
  readonly issuer: string;
  /** `${origin}/mcp` */
  readonly mcpUrl: string;
  /** Every request received, method + path + query, for assertions. */
  readonly requests: ReadonlyArray<{ method: string; url: string }>;
  close(): Promise<void>;
}

export interface MisconfiguredServerOptions {
  readonly misconfigurations?: readonly Misconfiguration[];
  /** Default 900. */
  readonly accessTokenTtlSeconds?: number;
  /** How long a rotated-out refresh token still refreshes (racing clients); default 10. */
  readonly refreshReuseSeconds?: number;
}

const MCP_SCOPE = 'mcp:tools';
const SCOPES: readonly string[] = [MCP_SCOPE, 'offline_access'];
const GRANT_TYPES: readonly string[] = ['authorization_code', 'refresh_token'];
const CODE_TTL_MS = 60_000;
const MAX_BODY_BYTES = 64 * 1024;
const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '[::1]', 'localhost'];
/** Loopback http URI up to the port, so RFC 8252 §7.3 matching can ignore the port. */
const LOOPBACK_PORT = /^(http:\/\/(?:127\.0\.0\.1|\[::1\]|localhost))(?::\d+)?(?=[/?]|$)/;
/** Schemes that are not private-use redirect targets but script or local-content vectors. */
const UNSAFE_SCHEMES: readonly string[] = ['javascript:', 'data:', 'vbscript:', 'file:'];
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1 verifier (and plain challenge) syntax. */
const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** One authorization: what its code, refresh tokens and access tokens all derive from. */
interface Grant {
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly resource: string;
  /** Set on refresh-token reuse or code replay: every refresh token of the grant stops working. */
  revoked: boolean;
}

interface AuthorizationCode {
  readonly clientId: string;
  readonly redirectUri: string;
  /** Whether the authorization request named it (then the token request must repeat it). */
  readonly redirectUriGiven: boolean;
  readonly challenge: string;
  readonly method: 'S256' | 'plain';
  readonly grant: Grant;
  readonly expiresAt: number;
  used: boolean;
}

interface RefreshToken {
  readonly grant: Grant;
  /** When it was first exchanged (rotated out); later uses count as reuse after the grace. */
  firstUsedAt?: number;
}

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const scopeList = (scope: string | null | undefined): string[] => [
  ...new Set((scope ?? '').split(' ').filter((s) => s !== '')),
];

function send(
  response: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body = '',
): void {
  response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  send(response, status, { 'content-type': 'application/json', ...headers }, JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** https, loopback http, or a private-use scheme (RFC 8252 §7.1); never a fragment (RFC 6749 §3.1.2). */
function acceptableRedirectUri(value: string): boolean {
  if (value.includes('#') || !URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.protocol === 'https:') return true;
  if (url.protocol === 'http:') return LOOPBACK_HOSTS.includes(url.hostname);
  return !UNSAFE_SCHEMES.includes(url.protocol);
}

/** Exact string match, except that loopback http URIs match on any port (RFC 8252 §7.3). */
function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const withoutPort = (uri: string): string | undefined =>
    LOOPBACK_PORT.test(uri) ? uri.replace(LOOPBACK_PORT, '$1') : undefined;
  const a = withoutPort(registered);
  return a !== undefined && a === withoutPort(requested);
}

/** The first parameter given more than once (RFC 6749 §3.1), `resource` aside (RFC 8707 allows it). */
function repeatedParameter(params: URLSearchParams): string | undefined {
  const keys = [...params.keys()].filter((key) => key !== 'resource');
  return keys.find((key, index) => keys.indexOf(key) !== index);
}

/** client_id from HTTP Basic, for a client that uses a secret it should not have been given. */
function basicClientId(request: IncomingMessage): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export async function startMisconfiguredServer(
  options: MisconfiguredServerOptions = {},
): Promise<MisconfiguredServer> {
  const flags = new Set<Misconfiguration>(options.misconfigurations ?? []);
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 900;
  const refreshReuseMs = (options.refreshReuseSeconds ?? 10) * 1000;

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  const jwks = { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] };

  const clients = new Map<string, { redirectUris: readonly string[] }>();
  const codes = new Map<string, AuthorizationCode>();
  const refreshTokens = new Map<string, RefreshToken>();
  const sessions = new Set<string>();
  const requests: { method: string; url: string }[] = [];

  // Known only once listening; every handler runs after that.
  let origin = '';
  let issuer = '';
  let mcpUrl = '';
  let prmUrl = '';

  const publicCors = { 'access-control-allow-origin': '*' };
  const mcpCors: OutgoingHttpHeaders = flags.has('cors-no-expose')
    ? publicCors
    : { ...publicCors, 'access-control-expose-headers': 'WWW-Authenticate, Mcp-Session-Id' };

  const authorizationServerMetadata = (): Json => ({
    issuer: flags.has('issuer-mismatch') ? `${issuer}/` : issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    jwks_uri: `${issuer}/jwks`,
    scopes_supported: SCOPES,
    response_types_supported: ['code'],
    grant_types_supported: GRANT_TYPES,
    token_endpoint_auth_methods_supported: ['none'],
    ...(flags.has('no-s256')
      ? {}
      : {
          code_challenge_methods_supported: flags.has('plain-allowed')
            ? ['S256', 'plain']
            : ['S256'],
        }),
    authorization_response_iss_parameter_supported: true,
  });

  const protectedResourceMetadata = (): Json => ({
    resource: flags.has('wrong-resource') ? `${mcpUrl}/` : mcpUrl,
    authorization_servers: [issuer],
    scopes_supported: flags.has('offline-access-in-prm') ? SCOPES : [MCP_SCOPE],
    bearer_methods_supported: ['header'],
  });

  const documents: Record<string, () => unknown> = {
    '/.well-known/oauth-authorization-server': authorizationServerMetadata,
    '/.well-known/openid-configuration': authorizationServerMetadata,
    '/.well-known/oauth-protected-resource': protectedResourceMetadata,
    '/.well-known/oauth-protected-resource/mcp': protectedResourceMetadata,
    '/jwks': () => jwks,
  };

  async function issueTokens(grant: Grant, scope: readonly string[]): Promise<Json> {
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({ client_id: grant.clientId, scope: scope.join(' ') })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .setIssuer(issuer)
      .setSubject('user-1')
      .setAudience(flags.has('aud-not-resource') ? grant.clientId : grant.resource)
      .setIssuedAt(now)
      .setExpirationTime(now + accessTokenTtl)
      .setJti(randomUUID())
      .sign(privateKey);
    const refreshToken = randomBytes(32).toString('base64url');
    refreshTokens.set(refreshToken, { grant });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: accessTokenTtl,
      scope: scope.join(' '),
      refresh_token: refreshToken,
    };
  }

  async function register(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const headers = { ...publicCors, 'cache-control': 'no-store' };
    const fail = (error: string, description: string): void =>
      sendJson(response, 400, { error, error_description: description }, headers);
    const text = await readBody(request);
    let body: unknown;
    try {
      body = JSON.parse(text ?? '');
    } catch {
      return fail('invalid_client_metadata', 'The body must be a JSON object');
    }
    if (!isRecord(body)) return fail('invalid_client_metadata', 'The body must be a JSON object');
    const uris = body.redirect_uris;
    if (
      !Array.isArray(uris) ||
      uris.length === 0 ||
      !uris.every((uri): uri is string => typeof uri === 'string')
    ) {
      return fail('invalid_redirect_uri', 'redirect_uris must be a non-empty array of strings');
    }
    const bad = uris.find((uri) => !acceptableRedirectUri(uri));
    if (bad !== undefined) {
      return fail(
        'invalid_redirect_uri',
        `${bad} is neither https, loopback http nor a private-use scheme`,
      );
    }
    const authMethod = body.token_endpoint_auth_method ?? 'none';
    if (authMethod !== 'none') {
      return fail('invalid_client_metadata', 'Only public clients (none) are supported');
    }
    const grantTypes = body.grant_types ?? GRANT_TYPES;
    if (
      !Array.isArray(grantTypes) ||
      !grantTypes.every((type) => typeof type === 'string' && GRANT_TYPES.includes(type))
    ) {
      return fail('invalid_client_metadata', 'grant_types: authorization_code, refresh_token');
    }
    const responseTypes = body.response_types ?? ['code'];
    if (!Array.isArray(responseTypes) || !responseTypes.every((type) => type === 'code')) {
      return fail('invalid_client_metadata', 'response_types: code');
    }
    // Never echo credentials the client made up.
    const {
      client_id: _id,
      client_secret: _secret,
      client_secret_expires_at: _expires,
      client_id_issued_at: _issued,
      ...metadata
    } = body;
    const clientId = randomUUID();
    clients.set(clientId, { redirectUris: uris });
    sendJson(
      response,
      201,
      {
        ...metadata,
        redirect_uris: uris,
        token_endpoint_auth_method: authMethod,
        grant_types: grantTypes,
        response_types: responseTypes,
        client_id: clientId,
        client_id_issued_at: Math.floor(Date.now() / 1000),
        ...(flags.has('secret-for-public-client')
          ? { client_secret: randomBytes(32).toString('base64url'), client_secret_expires_at: 0 }
          : {}),
      },
      headers,
    );
  }

  async function authorize(url: URL, response: ServerResponse): Promise<void> {
    const params = url.searchParams;
    const page = (text: string): void =>
      send(response, 400, { 'content-type': 'text/plain; charset=utf-8' }, `${text}\n`);
    // Without a trusted client and redirect URI, errors go on a page, never a redirect (open redirector).
    const clientIds = params.getAll('client_id');
    const client = clientIds.length === 1 ? clients.get(clientIds[0] as string) : undefined;
    if (!client) return page('Unknown client_id');
    const requested = params.getAll('redirect_uri');
    const redirectUri =
      requested.length === 0
        ? client.redirectUris.length === 1
          ? client.redirectUris[0]
          : undefined
        : requested.length === 1 &&
            client.redirectUris.some((uri) => redirectUriMatches(uri, requested[0] as string))
          ? requested[0]
          : undefined;
    if (redirectUri === undefined) return page('Unregistered redirect_uri');

    const state = params.get('state');
    const redirect = (values: Record<string, string>): void => {
      const location = new URL(redirectUri);
      for (const [name, value] of Object.entries(values)) location.searchParams.set(name, value);
      if (state !== null) location.searchParams.set('state', state);
      if (!flags.has('no-iss-on-callback')) location.searchParams.set('iss', issuer);
      send(response, 302, { location: location.href, 'cache-control': 'no-store' });
    };
    const fail = (error: string, description: string): void =>
      redirect({ error, error_description: description });

    const repeated = repeatedParameter(params);
    if (repeated) return fail('invalid_request', `${repeated} is given more than once`);
    const responseType = params.get('response_type');
    if (responseType === null) return fail('invalid_request', 'response_type is required');
    if (responseType !== 'code') return fail('unsupported_response_type', 'Only code is supported');
    const challenge = params.get('code_challenge');
    if (challenge === null) return fail('invalid_request', 'code_challenge is required (PKCE)');
    // A missing method means plain (RFC 7636 §4.3), which only the plain-allowed server accepts.
    const requestedMethod = params.get('code_challenge_method') ?? 'plain';
    const method =
      requestedMethod === 'S256'
        ? 'S256'
        : requestedMethod === 'plain' && flags.has('plain-allowed')
          ? 'plain'
          : undefined;
    if (method === undefined) return fail('invalid_request', 'code_challenge_method must be S256');
    if (!(method === 'S256' ? S256_CHALLENGE : PKCE_VERIFIER).test(challenge)) {
      return fail('invalid_request', 'Malformed code_challenge');
    }
    if (params.getAll('resource').some((resource) => resource !== mcpUrl)) {
      return fail('invalid_target', `The only resource here is ${mcpUrl}`);
    }
    const scope = scopeList(params.get('scope') || MCP_SCOPE); // absent or empty: the default
    if (scope.length === 0 || scope.some((s) => !SCOPES.includes(s))) {
      return fail('invalid_scope', `Supported scopes: ${SCOPES.join(' ')}`);
    }

    // Auto-approved: the test user agent just follows the redirect.
    const code = randomBytes(32).toString('base64url');
    codes.set(code, {
      clientId: clientIds[0] as string,
      redirectUri,
      redirectUriGiven: requested.length === 1,
      challenge,
      method,
      grant: { clientId: clientIds[0] as string, scope, resource: mcpUrl, revoked: false },
      expiresAt: Date.now() + CODE_TTL_MS,
      used: false,
    });
    redirect({ code });
  }

  async function token(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const headers = { ...publicCors, 'cache-control': 'no-store', pragma: 'no-cache' };
    const fail = (error: string, description: string, status = 400): void =>
      sendJson(response, status, { error, error_description: description }, headers);
    const text = await readBody(request);
    const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (text === undefined || contentType !== 'application/x-www-form-urlencoded') {
      return fail('invalid_request', 'Expected an application/x-www-form-urlencoded body');
    }
    const form = new URLSearchParams(text);
    const repeated = repeatedParameter(form);
    if (repeated) return fail('invalid_request', `${repeated} is given more than once`);

    const clientId = form.get('client_id') ?? basicClientId(request);
    if (clientId === undefined || !clients.has(clientId)) {
      return fail('invalid_client', 'Unknown or missing client_id', 401);
    }
    const resources = form.getAll('resource');
    const grantType = form.get('grant_type');

    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (!code || code.clientId !== clientId || code.expiresAt < Date.now()) {
        return fail('invalid_grant', 'Unknown, expired or foreign code');
      }
      if (code.used) {
        // A replayed code may be stolen: revoke what it already produced (OAuth 2.1 §4.1.3).
        code.grant.revoked = true;
        return fail('invalid_grant', 'The code was already used');
      }
      const redirectUri = form.get('redirect_uri');
      if (redirectUri !== code.redirectUri && (code.redirectUriGiven || redirectUri !== null)) {
        return fail('invalid_grant', 'redirect_uri differs from the authorization request');
      }
      const verifier = form.get('code_verifier') ?? '';
      const derived =
        code.method === 'S256'
          ? createHash('sha256').update(verifier).digest('base64url')
          : verifier;
      if (!PKCE_VERIFIER.test(verifier) || derived !== code.challenge) {
        return fail('invalid_grant', 'code_verifier does not match the code_challenge');
      }
      if (resources.some((resource) => resource !== code.grant.resource)) {
        return fail('invalid_target', 'resource differs from the authorization request');
      }
      code.used = true;
      return sendJson(response, 200, await issueTokens(code.grant, code.grant.scope), headers);
    }

    if (grantType === 'refresh_token') {
      const record = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!record || record.grant.revoked || record.grant.clientId !== clientId) {
        return fail('invalid_grant', 'Unknown or revoked refresh token');
      }
      const { grant } = record;
      const now = Date.now();
      if (record.firstUsedAt === undefined) {
        record.firstUsedAt = now;
      } else if (now - record.firstUsedAt >= refreshReuseMs) {
        // Reuse past the grace: someone else may hold the token, so the whole grant goes.
        grant.revoked = true;
        return fail('invalid_grant', 'Refresh token reuse detected; the grant is revoked');
      }
      const requestedScope = form.get('scope');
      const scope = requestedScope ? scopeList(requestedScope) : grant.scope;
      if (scope.length === 0 || scope.some((s) => !grant.scope.includes(s))) {
        return fail('invalid_scope', `The grant covers: ${grant.scope.join(' ')}`);
      }
      if (resources.some((resource) => resource !== grant.resource)) {
        return fail('invalid_target', 'resource differs from the grant');
      }
      return sendJson(response, 200, await issueTokens(grant, scope), headers);
    }

    if (grantType === null) return fail('invalid_request', 'grant_type is required');
    return fail('unsupported_grant_type', `${grantType} is not supported`);
  }

  /** The Bearer challenge; RFC 6750 §3.1: no error code when no credentials were sent. */
  function challenge(error?: 'invalid_token' | 'insufficient_scope'): string {
    const metadata = flags.has('no-resource-metadata') ? [] : [`resource_metadata="${prmUrl}"`];
    const scope = `scope="${MCP_SCOPE}"`;
    if (error === 'insufficient_scope')
      return `Bearer error="${error}", ${[scope, ...metadata].join(', ')}`;
    const parts = [...(error ? [`error="${error}"`] : []), ...metadata, scope];
    return `Bearer ${parts.join(', ')}`;
  }

  async function mcp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method === 'OPTIONS') {
      return send(response, 204, {
        ...mcpCors,
        'access-control-allow-methods': 'GET, POST, DELETE',
        'access-control-allow-headers':
          'authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id',
        'access-control-max-age': '600',
      });
    }
    const unauthorized = (error: string, description: string, code?: 'invalid_token'): void =>
      sendJson(
        response,
        401,
        { error, error_description: description },
        flags.has('no-challenge') ? mcpCors : { ...mcpCors, 'www-authenticate': challenge(code) },
      );
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!bearer) return unauthorized('unauthorized', 'Authorization required');
    let payload: Json;
    try {
      ({ payload } = await jwtVerify(bearer, publicKey, {
        issuer,
        algorithms: ['ES256'],
        typ: 'at+jwt',
      }));
    } catch {
      return unauthorized(
        'invalid_token',
        'The access token is invalid or expired',
        'invalid_token',
      );
    }
    const audiences: unknown[] = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const accepted =
      audiences.includes(mcpUrl) ||
      // A misconfigured resource server that takes any token its client holds.
      (flags.has('aud-not-resource') &&
        typeof payload.client_id === 'string' &&
        audiences.includes(payload.client_id));
    if (!accepted) {
      return unauthorized('invalid_token', 'The token is not for this resource', 'invalid_token');
    }
    if (!scopeList(typeof payload.scope === 'string' ? payload.scope : '').includes(MCP_SCOPE)) {
      return sendJson(
        response,
        403,
        { error: 'insufficient_scope', error_description: `${MCP_SCOPE} is required` },
        { ...mcpCors, 'www-authenticate': challenge('insufficient_scope') },
      );
    }
    // No SSE stream and no client-initiated session end (MCP Streamable HTTP allows 405 for both).
    if (request.method !== 'POST') return send(response, 405, { ...mcpCors, allow: 'POST' });

    const rpcError = (status: number, id: unknown, code: number, message: string): void =>
      sendJson(response, status, { jsonrpc: '2.0', id, error: { code, message } }, mcpCors);
    let message: unknown;
    try {
      message = JSON.parse((await readBody(request)) ?? '');
    } catch {
      return rpcError(400, null, -32700, 'Parse error');
    }
    if (!isRecord(message) || message.jsonrpc !== '2.0') {
      return rpcError(400, null, -32600, 'Invalid Request');
    }
    const session = request.headers['mcp-session-id'];
    if (typeof session === 'string' && message.method !== 'initialize' && !sessions.has(session)) {
      return rpcError(404, null, -32001, 'Session not found');
    }
    // Notifications and responses to server requests get no body.
    if (!('id' in message) || typeof message.method !== 'string') {
      return send(response, 202, mcpCors);
    }
    const { id, method } = message;
    const params = isRecord(message.params) ? message.params : {};
    const result = (value: unknown, headers: OutgoingHttpHeaders = {}): void =>
      sendJson(response, 200, { jsonrpc: '2.0', id, result: value }, { ...mcpCors, ...headers });
    switch (method) {
      case 'initialize': {
        const sessionId = randomUUID();
        sessions.add(sessionId);
        const version =
          typeof params.protocolVersion === 'string' ? params.protocolVersion : '2025-06-18';
        return result(
          {
            protocolVersion: version,
            capabilities: { tools: {} },
            serverInfo: { name: 'misconfigured-server', version: '1.0.0' },
          },
          { 'mcp-session-id': sessionId },
        );
      }
      case 'ping':
        return result({});
      case 'tools/list':
        return result({
          tools: [
            {
              name: 'echo',
              description: 'Echoes its input',
              inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
            },
          ],
        });
      case 'tools/call': {
        if (params.name !== 'echo') return rpcError(200, id, -32602, 'Unknown tool');
        const args = isRecord(params.arguments) ? params.arguments : {};
        const text = typeof args.text === 'string' ? args.text : '';
        return result({ content: [{ type: 'text', text }] });
      }
      default:
        return rpcError(200, id, -32601, 'Method not found');
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    requests.push({ method, url: request.url ?? '/' });
    const path = new URL(request.url ?? '/', origin).pathname;
    const document = documents[path];
    if (document) {
      if (method === 'OPTIONS') {
        return send(response, 204, {
          ...publicCors,
          'access-control-allow-methods': 'GET',
          'access-control-allow-headers': 'mcp-protocol-version',
        });
      }
      if (method !== 'GET' && method !== 'HEAD') {
        return send(response, 405, { ...publicCors, allow: 'GET' });
      }
      return sendJson(response, 200, document(), publicCors);
    }
    if (path === '/mcp') return mcp(request, response);
    if (path === '/register' || path === '/token') {
      if (method === 'OPTIONS') {
        return send(response, 204, {
          ...publicCors,
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers':
            path === '/token' ? 'content-type, authorization' : 'content-type',
          'access-control-max-age': '600',
        });
      }
      if (method !== 'POST') return send(response, 405, { ...publicCors, allow: 'POST' });
      return path === '/register' ? register(request, response) : token(request, response);
    }
    if (path === '/authorize') {
      if (method !== 'GET') return send(response, 405, { allow: 'GET' });
      return authorize(new URL(request.url ?? '/', origin), response);
    }
    send(response, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not found\n');
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy();
      sendJson(response, 500, { error: 'server_error', error_description: String(error) });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  origin = `http://127.0.0.1:${address.port}`;
  issuer = origin;
  mcpUrl = `${origin}/mcp`;
  prmUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;

  return {
    origin,
    issuer,
    mcpUrl,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
