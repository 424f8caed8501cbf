import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPkce,
  introspectionClient,
  type StartedProcess,
  startAuthServerApp,
  startOnFreePort,
  UserAgent,
} from '@gatehouse/testkit';

export const MCP_RESOURCE = 'http://localhost:3000/mcp';
export const OTHER_RESOURCE = 'http://localhost:3001/api';
export const INTROSPECTOR = { id: 'mcp-server', secret: 'mcp-server-introspection-secret' };
export const REDIRECT_URI = 'http://127.0.0.1:33418/callback';

export interface RunningServer {
  readonly issuer: string;
  readonly dbPath: string;
  readonly process: StartedProcess;
  readonly env: Record<string, string>;
}

/** The environment the suites start the authorization server with (users, resources, clients). */
export function authServerEnv(issuer: string, store: string): Record<string, string> {
  return {
    AUTH_ISSUER: issuer,
    AUTH_STORE: store,
    AUTH_USERS: 'alice:alice-password,bob:bob-password',
    AUTH_RESOURCES: JSON.stringify([
      { resource: MCP_RESOURCE, scopes: ['mcp:tools', 'mcp:admin'], defaultScopes: ['mcp:tools'] },
      { resource: OTHER_RESOURCE, scopes: ['api:read'], accessTokenFormat: 'opaque' },
    ]),
    AUTH_CLIENTS: JSON.stringify([introspectionClient(INTROSPECTOR)]),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
}

/**
 * Starts the real authorization server process (tsx, no build step) on `port`, or on a free port
 * (another one when a concurrent test file's server took it first). Ready once it logged that it
 * listens and /readyz answers 200.
 */
export async function startAuthServer(
  overrides: Record<string, string> = {},
  dbPath?: string,
  port?: number,
): Promise<RunningServer> {
  const db = dbPath ?? join(mkdtempSync(join(tmpdir(), 'gatehouse-auth-')), 'auth.db');
  const startOn = async (chosenPort: number): Promise<RunningServer> => {
    const issuer = `http://localhost:${chosenPort}`;
    const env = { ...authServerEnv(issuer, `sqlite:${db}`), ...overrides };
    const process = await startAuthServerApp({ port: chosenPort, env });
    return { issuer, dbPath: db, process, env };
  };
  return port === undefined ? startOnFreePort(startOn) : startOn(port);
}

export interface RegisteredClient {
  readonly client_id: string;
  readonly registration_access_token?: string;
  readonly [key: string]: unknown;
}

export async function register(
  issuer: string,
  metadata: Record<string, unknown> = {},
): Promise<{
  status: number;
  body: RegisteredClient & { error?: string; error_description?: string };
}> {
  const response = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Test MCP Client',
      redirect_uris: [REDIRECT_URI],
      ...metadata,
    }),
  });
  return {
    status: response.status,
    body: (await response.json()) as RegisteredClient & { error?: string },
  };
}

export interface AuthorizeOptions {
  readonly clientId: string;
  readonly redirectUri?: string;
  readonly scope?: string;
  readonly resource?: string | null;
  readonly pkce?: 'S256' | 'plain' | 'none';
  readonly username?: string;
  readonly password?: string;
  readonly consent?: 'allow' | 'deny';
  readonly userAgent?: UserAgent;
  /** Full authorization endpoint URL; default `${issuer}/auth` (Gatehouse's layout). */
  readonly authorizationEndpoint?: string;
}

export interface AuthorizeResult {
  readonly callback: URL;
  readonly verifier: string;
  readonly state: string;
  readonly pages: string[];
  readonly userAgent: UserAgent;
}

/** Drives an authorization request through login and consent like a browser; returns the callback URL. */
export async function authorize(
  issuer: string,
  options: AuthorizeOptions,
): Promise<AuthorizeResult> {
  const ua = options.userAgent ?? new UserAgent();
  const redirectUri = options.redirectUri ?? REDIRECT_URI;
  const { verifier, challenge } = createPkce();
  const state = crypto.randomUUID();
  const url = new URL(options.authorizationEndpoint ?? `${issuer}/auth`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', options.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  if (options.scope !== undefined) url.searchParams.set('scope', options.scope);
  if (options.resource !== null) url.searchParams.set('resource', options.resource ?? MCP_RESOURCE);
  if (options.pkce !== 'none') {
    url.searchParams.set('code_challenge', options.pkce === 'plain' ? verifier : challenge);
    url.searchParams.set('code_challenge_method', options.pkce ?? 'S256');
  }
  const atCallback = (target: string) =>
    target.startsWith(redirectUri.split('?')[0] ?? redirectUri);
  const pages: string[] = [];
  const response = await ua.authorize(
    url.href,
    atCallback,
    {
      username: options.username ?? 'alice',
      password: options.password ?? 'alice-password',
      consent: options.consent ?? 'allow',
    },
    pages,
  );
  if (!atCallback(response.url))
    throw new Error(
      `authorization did not reach the callback (HTTP ${response.status}):\n${response.body.slice(0, 500)}`,
    );
  return { callback: new URL(response.url), verifier, state, pages, userAgent: ua };
}

export async function tokenRequest(
  issuer: string,
  params: Record<string, string>,
  auth?: { id: string; secret: string },
) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth)
    headers.authorization = `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}`;
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params).toString(),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, string | number | undefined>,
  };
}

/** A refresh-token grant as a public client sends it (with `auth`, as a confidential one). */
export function refreshRequest(
  issuer: string,
  clientId: string,
  refreshToken: unknown,
  extra: Record<string, string> = {},
  auth?: { id: string; secret: string },
) {
  return tokenRequest(
    issuer,
    {
      grant_type: 'refresh_token',
      ...(auth ? {} : { client_id: clientId }),
      refresh_token: String(refreshToken),
      ...extra,
    },
    auth,
  );
}

/**
 * Sends requests that reach the servers' processes while they are stopped (SIGSTOP): the kernel
 * accepts the connections and buffers the requests, and on SIGCONT each server reads what it got at
 * once, so the requests are in flight together every time, not by chance.
 */
export async function arriveTogether<T>(
  pids: readonly number[],
  send: () => ReadonlyArray<Promise<T>>,
): Promise<T[]> {
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  let sent: ReadonlyArray<Promise<T>> = [];
  try {
    sent = send();
    await new Promise((resolve) => setTimeout(resolve, 150));
  } finally {
    for (const pid of pids) process.kill(pid, 'SIGCONT');
  }
  return Promise.all(sent);
}

export async function exchangeCode(
  issuer: string,
  clientId: string,
  result: AuthorizeResult,
  extra: Record<string, string> = {},
) {
  return tokenRequest(issuer, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code: result.callback.searchParams.get('code') ?? '',
    redirect_uri: REDIRECT_URI,
    code_verifier: result.verifier,
    resource: MCP_RESOURCE,
    ...extra,
  });
}
