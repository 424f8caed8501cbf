import { obtainToken } from '@gatehouse/testkit';

/**
 * One full authorization flow as an MCP client does it, timed end to end and by phase: testkit's
 * `obtainToken` (discovery, dynamic client registration, authorization request with PKCE S256, login
 * form, consent, code exchange) with `fetch` wrapped for the duration of the flow so that the JSON
 * exchanges (discovery, registration, token) are timed request + response body. The rest of the
 * flow is the browser part: the authorization request, the login form and the consent page, with
 * their redirects.
 */

export interface FlowSample {
  readonly totalMs: number;
  readonly discoveryMs: number;
  readonly registrationMs: number;
  /** Authorization request + login + consent, redirects included (total minus the other phases). */
  readonly authorizationMs: number;
  /** The code exchange (POST to the token endpoint). */
  readonly tokenMs: number;
  /** HTTP requests the flow made. */
  readonly requests: number;
}

export interface ServerEndpoints {
  readonly registration_endpoint: string;
  readonly token_endpoint: string;
}

export const LOGIN = { username: 'alice', password: 'alice-password' };
export const SCOPE = 'mcp:tools';

export async function discover(issuer: string): Promise<ServerEndpoints> {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery failed at ${issuer}: HTTP ${response.status}`);
  return (await response.json()) as ServerEndpoints;
}

type Phase = 'discovery' | 'registration' | 'token' | 'authorization';

function requestOf(input: string | URL | Request, init?: RequestInit) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  return { url, method };
}

export async function timedFlow(
  issuer: string,
  endpoints: ServerEndpoints,
  resource: string,
): Promise<FlowSample & { accessToken: string }> {
  const spent: Record<Phase, number> = {
    discovery: 0,
    registration: 0,
    token: 0,
    authorization: 0,
  };
  let requests = 0;
  const phaseOf = (method: string, url: string): Phase => {
    if (url.endsWith('/.well-known/openid-configuration')) return 'discovery';
    if (method === 'POST' && url === endpoints.registration_endpoint) return 'registration';
    if (method === 'POST' && url === endpoints.token_endpoint) return 'token';
    return 'authorization';
  };
  const original = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const { url, method } = requestOf(input, init);
    const phase = phaseOf(method, url);
    requests += 1;
    if (phase === 'authorization') return original(input, init);
    const started = performance.now();
    const response = await original(input, init);
    const body = await response.arrayBuffer();
    spent[phase] += performance.now() - started;
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  const started = performance.now();
  let accessToken: string;
  try {
    ({ accessToken } = await obtainToken(issuer, resource, SCOPE, LOGIN));
  } finally {
    globalThis.fetch = original;
  }
  const totalMs = performance.now() - started;
  return {
    totalMs,
    discoveryMs: spent.discovery,
    registrationMs: spent.registration,
    authorizationMs: totalMs - spent.discovery - spent.registration - spent.token,
    tokenMs: spent.token,
    requests,
    accessToken,
  };
}

/** Fails loudly if a flow produced something other than a token for `resource` (never time errors). */
export function checkAccessToken(accessToken: string, issuer: string, resource: string): void {
  const payload = accessToken.split('.')[1];
  if (!payload) throw new Error(`not a JWT access token from ${issuer}`);
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    iss?: string;
    aud?: string | string[];
    scope?: string;
  };
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== issuer || !audience.includes(resource) || !claims.scope?.includes(SCOPE))
    throw new Error(`unexpected access token from ${issuer}: ${JSON.stringify(claims)}`);
}
