import { createDpopHolder, createDpopProof, type DpopHolder } from '@gatehouse/testkit';
import {
  authorize,
  callTool,
  exchangeCode,
  logoutXsrf,
  openInteraction,
  REDIRECT_URI,
  registerClient,
  type Tokens,
  UserAgent,
} from './flows.js';
import type { FuzzContext } from './generate/context.js';
import type { SecretRegistry } from './secrets.js';
import type { FuzzStack, StackCredentials, User } from './stack.js';

/** What the preparation keeps away from the fuzz, to prove afterwards that it still works. */
export interface Preserved {
  readonly clientId: string;
  /** Minted before the fuzz, never sent by it: refreshing it afterwards must still work. */
  readonly refreshToken: string;
}

/** DPoP proofs for one URL: a valid one per method and some with a claim wrong. */
async function dpopProofs(holder: DpopHolder, url: string, accessToken: string): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const variants: Array<Parameters<typeof createDpopProof>[2]> = [
    { htu: url },
    { htu: url, htm: 'GET' },
    { htu: url, htm: 'DELETE' },
    { htu: `${url}/other` },
    { htu: url.toUpperCase() },
    { htu: `${url}?q=1` },
    { htu: url, claims: { iat: now - 3_600 } },
    { htu: url, claims: { iat: now + 3_600 } },
    { htu: url, claims: { ath: 'wrong' } },
    { htu: url, claims: { ath: undefined } },
    { htu: url, claims: { jti: '' } },
    { htu: url, claims: { jti: 'x'.repeat(5_000) } },
    { htu: url, header: { typ: 'JWT' } },
    { htu: url, header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } } },
  ];
  return Promise.all(variants.map((options) => createDpopProof(holder, accessToken, options)));
}

/**
 * An access token bound to a DPoP key (a code exchanged with a proof), checked on /mcp, with
 * fresh proofs for the fuzz: each valid one is accepted once, then refused as a replay.
 */
async function dpopBoundToken(
  stack: FuzzStack,
  clientId: string,
  ua: UserAgent,
  user: User,
  secrets: SecretRegistry,
): Promise<FuzzContext['dpopBound']> {
  const { issuer, mcpUrl } = stack;
  const holder = await createDpopHolder();
  const grant = await authorize(
    issuer,
    ua,
    { clientId, resource: mcpUrl, scope: 'mcp:tools', user },
    secrets,
  );
  // No `ath` at the token endpoint: there is no access token yet.
  const proof = await createDpopProof(holder, '', {
    htu: `${issuer}/token`,
    claims: { ath: undefined },
  });
  const tokens = await exchangeCode(issuer, clientId, grant, mcpUrl, secrets, proof);
  if (tokens.tokenType !== 'DPoP')
    throw new Error(`a DPoP token request got a ${tokens.tokenType} token`);
  const check = await callTool(
    mcpUrl,
    tokens.accessToken,
    'whoami',
    {},
    await createDpopProof(holder, tokens.accessToken, { htu: mcpUrl }),
  );
  if (check.status !== 200)
    throw new Error(
      `the DPoP-bound access token does not work on /mcp: HTTP ${check.status} ${check.text.slice(0, 300)}`,
    );
  const proofs = await Promise.all(
    Array.from({ length: 40 }, () => createDpopProof(holder, tokens.accessToken, { htu: mcpUrl })),
  );
  return {
    accessToken: tokens.accessToken,
    proofs,
    badProofs: await dpopProofs(holder, mcpUrl, tokens.accessToken),
  };
}

/**
 * The valid sign-in the fuzz builds on: a registered client with tokens and spare codes (alice),
 * interactions waiting at the login and consent pages, the logout form's CSRF token, DPoP proofs;
 * and, kept from the fuzz, bob's refresh token from another client. The fuzz's access token is
 * checked on /mcp first: without it the fuzz would never get past the bearer check.
 */
export async function prepare(
  stack: FuzzStack,
  credentials: StackCredentials,
  secrets: SecretRegistry,
  seed: number,
): Promise<{ ctx: FuzzContext; preserved: Preserved }> {
  const { issuer, mcpUrl, opaqueResource } = stack;
  for (const user of [credentials.alice, credentials.bob, credentials.carol])
    secrets.add(user.password, `password of ${user.username}`);
  secrets.add(credentials.introspector.secret, 'client secret');

  // Bob first: his grant belongs to a client the fuzz never learns about.
  const bobClient = await registerClient(issuer, secrets, 'fuzz preserved client');
  const bobAgent = new UserAgent();
  const bobGrant = await authorize(
    issuer,
    bobAgent,
    { clientId: bobClient.clientId, resource: mcpUrl, scope: 'mcp:tools', user: credentials.bob },
    secrets,
  );
  const bobTokens = await exchangeCode(issuer, bobClient.clientId, bobGrant, mcpUrl, secrets);

  const client = await registerClient(issuer, secrets, 'fuzz client');
  const managed = await registerClient(issuer, secrets, 'fuzz managed client');
  const alice = new UserAgent();
  const user = credentials.alice;
  const grant = await authorize(
    issuer,
    alice,
    { clientId: client.clientId, resource: mcpUrl, scope: 'mcp:tools', user },
    secrets,
  );
  const tokens: Tokens = await exchangeCode(issuer, client.clientId, grant, mcpUrl, secrets);
  const check = await callTool(mcpUrl, tokens.accessToken, 'add_numbers', { a: 2, b: 3 });
  if (check.status !== 200 || !check.text.includes('"sum":5'))
    throw new Error(
      `the fuzz's access token does not work on /mcp: HTTP ${check.status} ${check.text.slice(0, 300)}`,
    );
  const opaqueGrant = await authorize(
    issuer,
    alice,
    { clientId: client.clientId, resource: opaqueResource, scope: 'api:read', user },
    secrets,
  );
  const opaque = await exchangeCode(issuer, client.clientId, opaqueGrant, opaqueResource, secrets);
  // Codes the fuzz may spend (the signed-in browser with a grant gets them without a page).
  const codes = [];
  for (let i = 0; i < 3; i++)
    codes.push(
      await authorize(
        issuer,
        alice,
        { clientId: client.clientId, resource: mcpUrl, scope: 'mcp:tools', user },
        secrets,
      ),
    );
  const pending = { clientId: client.clientId, resource: mcpUrl, scope: 'mcp:tools' };
  const loginInteraction = await openInteraction(issuer, new UserAgent(), pending, secrets);
  const resumeInteraction = await openInteraction(issuer, new UserAgent(), pending, secrets);
  // A scope not granted yet: the signed-in browser stops at the consent page.
  const consentInteraction = await openInteraction(
    issuer,
    alice,
    { clientId: client.clientId, resource: mcpUrl, scope: 'mcp:tools mcp:admin' },
    secrets,
  );
  // A second browser of alice's, for the logout form: a real logout there ends only that session.
  const leaving = new UserAgent();
  await authorize(issuer, leaving, { ...pending, user }, secrets);
  const logout = {
    xsrf: await logoutXsrf(issuer, leaving, secrets),
    cookie: leaving.cookieHeader(new URL(`${issuer}/session/end/confirm`)),
  };

  const ctx: FuzzContext = {
    seed,
    issuer,
    authPort: stack.authPort,
    mcpPort: stack.mcpPort,
    mcpUrl,
    opaqueResource,
    redirectUri: REDIRECT_URI,
    client: { id: client.clientId, registrationAccessToken: client.registrationAccessToken },
    managedClient: {
      id: managed.clientId,
      registrationAccessToken: managed.registrationAccessToken,
    },
    confidential: credentials.introspector,
    username: user.username,
    password: user.password,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    opaqueAccessToken: opaque.accessToken,
    codes,
    sessionCookie: alice.cookieHeader(new URL(`${issuer}/auth`)),
    loginInteraction,
    consentInteraction,
    resumeInteraction,
    logout,
    dpopBound: await dpopBoundToken(stack, client.clientId, alice, user, secrets),
    dpopProofs: {
      mcp: await dpopProofs(await createDpopHolder(), mcpUrl, tokens.accessToken),
      token: await dpopProofs(await createDpopHolder(), `${issuer}/token`, tokens.accessToken),
    },
  };
  return { ctx, preserved: { clientId: bobClient.clientId, refreshToken: bobTokens.refreshToken } };
}
