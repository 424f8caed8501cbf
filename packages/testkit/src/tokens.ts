import { HeadlessOAuthProvider } from './oauth-provider.js';
import { createPkce } from './pkce.js';

/**
 * Gets an access token for `resource` the way any OAuth client would: DCR, PKCE, login, consent,
 * token. Signs in as `login` (default alice / alice-password, the test suites' user).
 */
export async function obtainToken(
  issuer: string,
  resource: string,
  scope: string,
  login: { username: string; password: string } = { username: 'alice', password: 'alice-password' },
): Promise<{ accessToken: string; refreshToken: string }> {
  const provider = new HeadlessOAuthProvider({
    issuer,
    login,
    clientMetadata: { client_name: 'e2e token helper' },
  });
  const registration = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(provider.clientMetadata),
  });
  const { client_id: clientId } = (await registration.json()) as { client_id: string };
  const { verifier, challenge } = createPkce();
  const url = new URL(`${issuer}/auth`);
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
  const response = await fetch(`${issuer}/token`, {
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
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}
