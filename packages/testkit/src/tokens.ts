import { HeadlessOAuthProvider } from './oauth-provider.js';
import { createPkce } from './pkce.js';

interface ServerMetadata {
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly registration_endpoint: string;
}

async function register(
  metadata: ServerMetadata,
  clientMetadata: Record<string, unknown>,
): Promise<string> {
  const registration = await fetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(clientMetadata),
  });
  if (!registration.ok) throw new Error(`registration failed: HTTP ${registration.status}`);
  return ((await registration.json()) as { client_id: string }).client_id;
}

/**
 * Gets an access token for `resource` the way any OAuth client would: discovery, DCR, PKCE, login,
 * consent, token. Signs in as `login` (default alice / alice-password, the test suites' user).
 * Works against our authorization server and Keycloak alike (endpoints come from discovery).
 * `options.clientId` reuses a client registered before (a public client with this helper's redirect
 * URI) instead of registering a new one, e.g. to give one client several grants.
 */
export async function obtainToken(
  issuer: string,
  resource: string,
  scope: string,
  login: { username: string; password: string } = { username: 'alice', password: 'alice-password' },
  options: { clientMetadata?: Record<string, unknown>; clientId?: string } = {},
): Promise<{ accessToken: string; refreshToken: string; clientId: string }> {
  const provider = new HeadlessOAuthProvider({
    issuer,
    login,
    clientMetadata: {
      client_name: 'e2e token helper',
      token_endpoint_auth_method: 'none',
      ...options.clientMetadata,
    },
  });
  const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!discovery.ok) throw new Error(`discovery failed: HTTP ${discovery.status}`);
  const metadata = (await discovery.json()) as ServerMetadata;
  const clientId = options.clientId ?? (await register(metadata, provider.clientMetadata));
  const { verifier, challenge } = createPkce();
  const url = new URL(metadata.authorization_endpoint);
  for (const [key, value] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: provider.redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource,
    scope,
    state: provider.state(),
  })) {
    url.searchParams.set(key, value);
  }
  await provider.redirectToAuthorization(url);
  const response = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code: provider.code,
      redirect_uri: provider.redirectUri,
      code_verifier: verifier,
      resource,
    }).toString(),
  });
  const body = (await response.json()) as {
    access_token: string;
    refresh_token: string;
    error?: string;
  };
  if (!response.ok) throw new Error(`token request failed: ${body.error}`);
  return { accessToken: body.access_token, refreshToken: body.refresh_token, clientId };
}
