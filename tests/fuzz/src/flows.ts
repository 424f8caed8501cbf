import { createPkce, type PageResponse, parseForms, UserAgent } from '@gatehouse/testkit';
import { publicCookie, type SecretRegistry } from './secrets.js';
import type { User } from './stack.js';

/**
 * The OAuth flows a well-behaved client runs, as the fuzz's preparation and as the proof
 * afterwards that everything still works: registration, authorization through the real login and
 * consent pages, code exchange, refresh, and a tool call on /mcp. Every secret they see is added
 * to the registry.
 */

export const REDIRECT_URI = 'http://127.0.0.1:33418/callback';

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** `Bearer`, or `DPoP` for a token bound to the proof's key. */
  readonly tokenType: string;
}

export interface Registered {
  readonly clientId: string;
  readonly registrationAccessToken: string;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`HTTP ${response.status}, not JSON: ${text.slice(0, 300)}`);
  }
}

function remember(secrets: SecretRegistry, body: Record<string, unknown>): void {
  for (const field of [
    'access_token',
    'refresh_token',
    'id_token',
    'client_secret',
    'registration_access_token',
  ])
    if (typeof body[field] === 'string') secrets.add(body[field], field);
}

/** Every cookie the user agent holds (their values are secrets). */
export function rememberCookies(ua: UserAgent, secrets: SecretRegistry): void {
  for (const cookie of ua.cookies)
    if (!publicCookie(cookie.value, cookie.path))
      secrets.add(cookie.value, `cookie ${cookie.name}`);
}

export async function registerClient(
  issuer: string,
  secrets: SecretRegistry,
  name: string,
): Promise<Registered> {
  const response = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
    }),
  });
  const body = await json(response);
  remember(secrets, body);
  if (
    response.status !== 201 ||
    typeof body.client_id !== 'string' ||
    typeof body.registration_access_token !== 'string'
  )
    throw new Error(
      `registration answered HTTP ${response.status}: ${JSON.stringify(body).slice(0, 300)}`,
    );
  return { clientId: body.client_id, registrationAccessToken: body.registration_access_token };
}

export interface AuthorizeOptions {
  readonly clientId: string;
  readonly resource: string;
  readonly scope: string;
  readonly user: User;
}

function authorizationUrl(issuer: string, options: AuthorizeOptions, challenge: string): string {
  const url = new URL(`${issuer}/auth`);
  for (const [key, value] of Object.entries({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: crypto.randomUUID(),
    scope: options.scope,
    resource: options.resource,
  }))
    url.searchParams.set(key, value);
  return url.href;
}

const atCallback = (url: string) => url.startsWith(REDIRECT_URI);

function csrfOf(page: PageResponse, secrets: SecretRegistry): string {
  const form = parseForms(page.body, page.url)[0];
  const csrf = form?.fields.csrf;
  if (!csrf) throw new Error(`no sign-in form (HTTP ${page.status}): ${page.body.slice(0, 300)}`);
  secrets.add(csrf, 'csrf');
  return csrf;
}

/**
 * Runs an authorization request through the login and consent pages (whichever the server shows)
 * and returns the code with its PKCE verifier.
 */
export async function authorize(
  issuer: string,
  ua: UserAgent,
  options: AuthorizeOptions,
  secrets: SecretRegistry,
): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = createPkce();
  let page = await ua.navigate(authorizationUrl(issuer, options, challenge), atCallback);
  for (let step = 0; step < 4 && !atCallback(page.url); step++) {
    csrfOf(page, secrets);
    const form = parseForms(page.body, page.url)[0];
    if (!form) throw new Error(`no form on ${page.url}`);
    page =
      'password' in form.fields
        ? await ua.submit(
            form,
            { username: options.user.username, password: options.user.password },
            atCallback,
          )
        : await ua.submit(form, {}, atCallback, 'allow');
  }
  rememberCookies(ua, secrets);
  if (!atCallback(page.url))
    throw new Error(
      `authorization did not reach the client (HTTP ${page.status}): ${page.body.slice(0, 300)}`,
    );
  const code = new URL(page.url).searchParams.get('code');
  if (!code)
    throw new Error(`no code in ${new URL(page.url).search.replace(/code=[^&]*/, 'code=…')}`);
  secrets.add(code, 'code');
  return { code, verifier };
}

/**
 * Starts an authorization request and stops at the first sign-in page (login, or consent for a
 * browser that is signed in): the live interaction the fuzz posts to.
 */
export async function openInteraction(
  issuer: string,
  ua: UserAgent,
  options: Omit<AuthorizeOptions, 'user'>,
  secrets: SecretRegistry,
): Promise<{ uid: string; csrf: string; cookie: string; resumeCookie: string }> {
  const { challenge } = createPkce();
  const page = await ua.navigate(
    authorizationUrl(issuer, { ...options, user: { username: '', password: '' } }, challenge),
    atCallback,
  );
  const uid = /\/interaction\/([\w-]+)/.exec(page.url)?.[1];
  if (!uid || page.status !== 200)
    throw new Error(`no interaction page (HTTP ${page.status} at ${page.url})`);
  const csrf = csrfOf(page, secrets);
  rememberCookies(ua, secrets);
  return {
    uid,
    csrf,
    cookie: ua.cookieHeader(new URL(`${issuer}/interaction/${uid}/login`)),
    resumeCookie: ua.cookieHeader(new URL(`${issuer}/auth/${uid}`)),
  };
}

async function tokenRequest(
  issuer: string,
  params: Record<string, string>,
  secrets: SecretRegistry,
  headers: Record<string, string> = {},
): Promise<Tokens> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  const body = await json(response);
  remember(secrets, body);
  if (
    response.status !== 200 ||
    typeof body.access_token !== 'string' ||
    typeof body.refresh_token !== 'string'
  )
    throw new Error(
      `token request (${params.grant_type}) answered HTTP ${response.status}: ${String(body.error)} ${String(body.error_description ?? '')}`,
    );
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    tokenType: typeof body.token_type === 'string' ? body.token_type : '',
  };
}

export function exchangeCode(
  issuer: string,
  clientId: string,
  grant: { code: string; verifier: string },
  resource: string,
  secrets: SecretRegistry,
  /** A DPoP proof for the token endpoint: the access token is then bound to its key. */
  dpop?: string,
): Promise<Tokens> {
  return tokenRequest(
    issuer,
    {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: grant.code,
      redirect_uri: REDIRECT_URI,
      code_verifier: grant.verifier,
      resource,
    },
    secrets,
    dpop ? { dpop } : {},
  );
}

export function refresh(
  issuer: string,
  clientId: string,
  refreshToken: string,
  secrets: SecretRegistry,
): Promise<Tokens> {
  return tokenRequest(
    issuer,
    { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken },
    secrets,
  );
}

/** The logout confirmation form's CSRF token for a signed-in browser (the session stays). */
export async function logoutXsrf(
  issuer: string,
  ua: UserAgent,
  secrets: SecretRegistry,
): Promise<string> {
  const page = await ua.request(`${issuer}/session/end`);
  const xsrf = parseForms(page.body, page.url)[0]?.fields.xsrf;
  if (!xsrf) throw new Error(`no logout form (HTTP ${page.status}): ${page.body.slice(0, 300)}`);
  secrets.add(xsrf, 'xsrf');
  rememberCookies(ua, secrets);
  return xsrf;
}

/**
 * Calls a tool on the MCP endpoint; the answer's status and text (JSON or an event stream). With
 * `dpopProof`, the access token is sent as a DPoP-bound one.
 */
export async function callTool(
  mcpUrl: string,
  accessToken: string,
  name: string,
  args: Record<string, unknown>,
  dpopProof?: string,
): Promise<{ status: number; text: string }> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `${dpopProof ? 'DPoP' : 'Bearer'} ${accessToken}`,
      ...(dpopProof ? { dpop: dpopProof } : {}),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, arguments: args },
    }),
  });
  return { status: response.status, text: await response.text() };
}

export { UserAgent };
