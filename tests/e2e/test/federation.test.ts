import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import {
  importRealm,
  keycloakAdmin,
  type RunningKeycloak,
  UPSTREAM_REALM_FILE,
} from '@gatehouse/keycloak-runner';
import {
  createPkce,
  type HeadlessLogin,
  HeadlessOAuthProvider,
  launchBrowser,
  linkHref,
  type PageResponse,
  parseForms,
  type StartedProcess,
  startOnFreePort,
  UserAgent,
  waitForOutput,
} from '@gatehouse/testkit';
import { UnauthorizedError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectV2, finishAuthV2 } from './clients.js';
import { startTestKeycloak } from './keycloak-stack.js';
import { type Stack, startAuthServer, startStack } from './stack.js';

/**
 * Federated sign-in with a real Keycloak as the company's identity provider (realm `upstream`,
 * infra/keycloak/upstream-realm.json, created through Keycloak's admin API): MCP clients talk only
 * to Gatehouse (DCR, PKCE, resource-bound tokens), and people sign in at Keycloak's own login page.
 * alice is in mcp-admins, bob only in mcp-users, carol's email is at other.test, which the
 * allow-list turns away.
 */

const SECRET = 'e2e-upstream-client-secret';
const upstreamKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KEY_ID = 'gatehouse-upstream-key';
const REDIRECT_URI = 'http://127.0.0.1:33418/callback';
const screenshots = new URL('../.reports/screenshots/', import.meta.url).pathname;

const alice: HeadlessLogin = {
  username: 'alice',
  password: 'alice-password',
  upstream: 'Corp SSO',
};
const bob: HeadlessLogin = { username: 'bob', password: 'bob-password', upstream: 'Corp SSO' };
const carol: HeadlessLogin = {
  username: 'carol',
  password: 'carol-password',
  upstream: 'Corp SSO',
};

let keycloak: RunningKeycloak;
let stack: Stack;
/** A second Gatehouse whose only way in is the upstream (no local users). */
let only: { issuer: string; process: StartedProcess };

function federation(upstreamIssuer: string, plain: boolean) {
  const oidc = {
    id: 'corp',
    name: 'Corp SSO',
    issuer: upstreamIssuer,
    client_id: 'gatehouse',
    client_secret: SECRET,
    allowed_email_domains: ['example.test'],
    scope_grants: [{ scopes: ['mcp:tools'] }, { group: 'mcp-admins', scopes: ['mcp:admin'] }],
  };
  const endpoint = (path: string) => `${upstreamIssuer}/protocol/openid-connect/${path}`;
  // The plain OAuth 2.0 shape (GitHub's): endpoints, no discovery, no ID token; who signed in is
  // what the userinfo URL answers (Keycloak's answers only tokens with `openid`).
  const oauth = {
    id: 'corp-oauth',
    name: 'Corp OAuth',
    authorization_endpoint: endpoint('auth'),
    token_endpoint: endpoint('token'),
    userinfo_endpoint: endpoint('userinfo'),
    token_endpoint_auth_method: 'client_secret_post',
    client_id: 'gatehouse',
    client_secret: SECRET,
    scopes: ['openid'],
    scope_grants: [{ scopes: ['mcp:tools'] }],
  };
  // private_key_jwt instead of a secret: Keycloak's "Signed JWT" client with our public key.
  const keyed = {
    id: 'corp-key',
    name: 'Corp Key',
    issuer: upstreamIssuer,
    client_id: 'gatehouse-key',
    private_key_jwk: {
      ...upstreamKey.privateKey.export({ format: 'jwk' }),
      kid: KEY_ID,
      alg: 'ES256',
    },
    scope_grants: [{ scopes: ['mcp:tools'] }],
  };
  return JSON.stringify(plain ? [oidc, oauth, keyed] : [oidc]);
}

beforeAll(async () => {
  keycloak = await startTestKeycloak({ mcpResource: 'http://localhost:3000/mcp' });
  const upstreamIssuer = `${keycloak.baseUrl}/realms/upstream`;
  // Gatehouse discovers the upstream at the first sign-in, so it may start before the realm exists.
  stack = await startStack({ authEnv: { AUTH_FEDERATION: federation(upstreamIssuer, true) } });
  only = await startOnFreePort(async (port) => ({
    issuer: `http://localhost:${port}`,
    process: await startAuthServer(
      port,
      [
        {
          resource: stack.mcpUrl,
          scopes: ['mcp:tools', 'mcp:admin'],
          defaultScopes: ['mcp:tools'],
        },
      ],
      { AUTH_USERS: '', AUTH_FEDERATION: federation(upstreamIssuer, false) },
    ),
  }));
  await importRealm(
    keycloak,
    UPSTREAM_REALM_FILE,
    {
      GATEHOUSE_UPSTREAM_SECRET: SECRET,
      GATEHOUSE_CALLBACK: `${stack.issuer}/federation/callback`,
    },
    {
      adjust: (realm) => {
        const clients = realm.clients as Array<
          Record<string, unknown> & { redirectUris: string[] }
        >;
        const [client] = clients;
        if (!client) throw new Error('the upstream realm has no client');
        client.redirectUris.push(`${only.issuer}/federation/callback`);
        const { secret: _secret, ...keyed } = client;
        clients.push({
          ...keyed,
          clientId: 'gatehouse-key',
          clientAuthenticatorType: 'client-jwt',
          attributes: {
            ...(client.attributes as Record<string, string>),
            'use.jwks.string': 'true',
            'jwks.string': JSON.stringify({
              keys: [
                {
                  ...upstreamKey.publicKey.export({ format: 'jwk' }),
                  kid: KEY_ID,
                  alg: 'ES256',
                  use: 'sig',
                },
              ],
            }),
            'token.endpoint.auth.signing.alg': 'ES256',
          },
        });
      },
    },
  );
}, 240_000);

afterAll(async () => {
  await only?.process.stop();
  await stack?.stop();
  await keycloak?.stop();
});

/** A client registered by DCR, and an authorization request of it through `login`. */
async function authorize(
  login: HeadlessLogin,
  options: {
    scope?: string;
    issuer?: string;
    userAgent?: UserAgent;
    clientId?: string;
    /** Identical registrations share a client id (registration.ts): a new name, a new client. */
    clientName?: string;
  } = {},
) {
  const issuer = options.issuer ?? stack.issuer;
  const clientId =
    options.clientId ?? (await register(issuer, options.clientName ?? 'Federation test client'));
  const { url, verifier } = authorizationRequest(issuer, clientId, options.scope);
  const userAgent = options.userAgent ?? new UserAgent();
  const pages: string[] = [];
  const atCallback = (target: string) => target.startsWith(REDIRECT_URI);
  const page = await userAgent.authorize(url.href, atCallback, login, pages);
  return { page, pages, clientId, verifier, userAgent, atCallback, issuer };
}

/** An authorization request for the MCP resource (PKCE S256), and its code verifier. */
function authorizationRequest(issuer: string, clientId: string, scope = 'mcp:tools') {
  const { verifier, challenge } = createPkce();
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope,
    resource: stack.mcpUrl,
    state: crypto.randomUUID(),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return { url, verifier };
}

/** A client registered by DCR; its client_id. */
async function register(issuer: string, name: string): Promise<string> {
  const registered = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: name, redirect_uris: [REDIRECT_URI] }),
  });
  return ((await registered.json()) as { client_id: string }).client_id;
}

/** The access token's claims. */
function claimsOf(accessToken: string) {
  const [, payload = ''] = accessToken.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
    sub: string;
    scope: string;
    aud: string;
  };
}

/** Exchanges a finished authorization's code; the tokens. */
async function exchangeTokens(flow: Awaited<ReturnType<typeof authorize>>) {
  const callback = new URL(flow.page.url);
  expect(callback.searchParams.get('error'), flow.page.body.slice(0, 500)).toBeNull();
  return tokenRequest(flow.issuer, {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: REDIRECT_URI,
    client_id: flow.clientId,
    code_verifier: flow.verifier,
    resource: stack.mcpUrl,
  });
}

async function tokenRequest(issuer: string, form: Record<string, string>) {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams(form),
  });
  const tokens = (await response.json()) as { access_token: string; refresh_token: string };
  expect(response.status, JSON.stringify(tokens)).toBe(200);
  return tokens;
}

/** The access token's claims for a finished authorization. */
async function exchange(flow: Awaited<ReturnType<typeof authorize>>) {
  return claimsOf((await exchangeTokens(flow)).access_token);
}

/** Follows a denial page's "Return to ..." link: the client's callback with the error. */
async function returnFromDenial(flow: Awaited<ReturnType<typeof authorize>>, page: PageResponse) {
  const back = linkHref(page.body, 'Return to Federation test client', page.url);
  expect(back, page.body).toBeDefined();
  const callback = await flow.userAgent.navigate(back ?? '', flow.atCallback);
  return new URL(callback.url).searchParams;
}

describe('federated sign-in through Keycloak', () => {
  it('an SDK v2 client registers with Gatehouse, signs in at Keycloak, consents, calls tools, and steps up (alice, mcp-admins)', async () => {
    const provider = new HeadlessOAuthProvider({ issuer: stack.issuer, login: alice });
    let client = await connectV2(stack.mcpUrl, provider).catch(async (error: unknown) => {
      if (!(error instanceof UnauthorizedError)) throw error;
      await finishAuthV2(stack.mcpUrl, provider);
      return connectV2(stack.mcpUrl, provider);
    });
    const me = await client.callTool({ name: 'whoami', arguments: {} });
    expect(me.structuredContent).toMatchObject({
      subject: expect.stringMatching(/^corp:[0-9a-f-]{36}$/),
      scopes: ['mcp:tools'],
    });
    // The sign-in page went to Keycloak's own login page and came back.
    const sentTo = provider.authorizationUrls[0] as URL;
    expect(sentTo.origin).toBe(new URL(stack.issuer).origin);

    const stepUp = await client
      .callTool({ name: 'server_status', arguments: {} })
      .catch((error: unknown) => error);
    expect(stepUp).toBeInstanceOf(UnauthorizedError);
    await finishAuthV2(stack.mcpUrl, provider);
    await client.close();
    client = await connectV2(stack.mcpUrl, provider);
    const status = await client.callTool({ name: 'server_status', arguments: {} });
    expect(status.structuredContent).toMatchObject({ node: expect.stringMatching(/^v\d+/) });
    await client.close();
  });

  it('keeps the subject across sign-ins (the upstream subject, not the email)', async () => {
    const first = await exchange(await authorize(alice));
    const second = await exchange(await authorize(alice));
    expect(second.sub).toBe(first.sub);
    expect(first.sub).toMatch(/^corp:[0-9a-f-]{36}$/);
    expect(first.aud).toBe(stack.mcpUrl);
  });

  it('bob (not in mcp-admins) gets mcp:tools, and his step-up to mcp:admin ends in a clear denial with access_denied', async () => {
    const first = await authorize(bob);
    expect((await exchange(first)).scope).toBe('mcp:tools');
    // The same client, the same browser: what a client stepping up sends.
    const stepUp = await authorize(bob, {
      scope: 'mcp:tools mcp:admin',
      userAgent: first.userAgent,
      clientId: first.clientId,
    });
    expect(stepUp.page.status).toBe(403);
    expect(stepUp.page.body).toContain('mcp:admin, which your account may not have');
    const params = await returnFromDenial(stepUp, stepUp.page);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('iss')).toBe(stack.issuer);
  });

  it('bob asking for more than he may have on a first authorization gets what he may have, and is told', async () => {
    const flow = await authorize(bob, {
      scope: 'mcp:tools mcp:admin',
      clientName: 'A client bob never used',
    });
    expect(flow.pages.at(-1)).toContain('which your account may not have: it will not get it');
    const claims = await exchange(flow);
    expect(claims.scope).toBe('mcp:tools');
  });

  it('turns carol (other.test) away with a page saying why, and the client gets access_denied with iss', async () => {
    const flow = await authorize(carol);
    expect(flow.page.status).toBe(403);
    expect(flow.page.body).toContain(
      'Accounts with an email address at other.test may not sign in here.',
    );
    // On the audit stream: who was turned away, by which upstream, and why.
    await waitForOutput(stack.authServer, (output) =>
      output.includes('"type":"upstream_sign_in","outcome":"denied"'),
    );
    expect(stack.authServer.output()).toMatch(
      /"type":"upstream_sign_in","outcome":"denied","actor":"corp:[0-9a-f-]{36}".*"detail":\{"upstream":"corp","reason":"Accounts with an email address at other\.test may not sign in here\."\}/,
    );
    const params = await returnFromDenial(flow, flow.page);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('iss')).toBe(stack.issuer);
  });

  it('signs in through the plain OAuth 2.0 shape (endpoints and userinfo, no ID token)', async () => {
    const claims = await exchange(await authorize({ ...alice, upstream: 'Corp OAuth' }));
    expect(claims.sub).toMatch(/^corp-oauth:[0-9a-f-]{36}$/);
    expect(claims.scope).toBe('mcp:tools');
  });

  it('authenticates to the upstream with private_key_jwt (Keycloak "Signed JWT")', async () => {
    const claims = await exchange(await authorize({ ...alice, upstream: 'Corp Key' }));
    expect(claims.sub).toMatch(/^corp-key:[0-9a-f-]{36}$/);
  });

  it('sends people straight to the upstream when it is the only way in', async () => {
    const flow = await authorize(alice, { issuer: only.issuer });
    // No Gatehouse sign-in page on the way: the first page was Keycloak's.
    expect(flow.pages[0]).toContain('kc-form-login');
    expect((await exchange(flow)).sub).toMatch(/^corp:/);
  });

  it('works in Chromium through both login pages', async () => {
    mkdirSync(screenshots, { recursive: true });
    const browser = await launchBrowser();
    try {
      const { url } = authorizationRequest(
        stack.issuer,
        await register(stack.issuer, 'Browser client'),
      );
      const page = await browser.newPage();
      let callback: URL | undefined;
      await page.route(`${REDIRECT_URI}**`, async (route) => {
        callback = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Done</p>' });
      });
      await page.goto(url.href);
      await page.screenshot({ path: `${screenshots}federation-gatehouse-login.png` });
      await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
      await page.waitForURL((target) => target.origin === keycloak.baseUrl);
      await page.locator('#username').fill('alice');
      await page.locator('#password').fill('alice-password');
      await page.screenshot({ path: `${screenshots}federation-keycloak-login.png` });
      await page.locator('#kc-login').click();
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      await page.screenshot({ path: `${screenshots}federation-consent.png` });
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((target) => target.href.startsWith(REDIRECT_URI));
      expect(callback?.searchParams.get('code')).toBeTruthy();
      expect(callback?.searchParams.get('iss')).toBe(stack.issuer);
    } finally {
      await browser.close();
    }
  });

  it('a group taken away upstream counts from the next sign-in: its scope is gone from the next refreshed token', async () => {
    const admin = await keycloakAdmin(keycloak);
    const [user] = (await (
      await admin('/admin/realms/upstream/users?username=alice&exact=true')
    ).json()) as Array<{ id: string }>;
    const groups = (await (
      await admin('/admin/realms/upstream/groups?search=mcp-admins')
    ).json()) as Array<{ id: string; name: string }>;
    const group = groups.find((candidate) => candidate.name === 'mcp-admins');
    const membership = `/admin/realms/upstream/users/${user?.id}/groups/${group?.id}`;
    const first = await authorize(alice, { scope: 'mcp:tools mcp:admin' });
    const tokens = await exchangeTokens(first);
    expect(claimsOf(tokens.access_token).scope).toBe('mcp:tools mcp:admin');
    expect((await admin(membership, { method: 'DELETE' })).status).toBe(204);
    try {
      // Another sign-in (another client, another browser) brings the new groups.
      await exchange(await authorize(alice));
      const refreshed = await tokenRequest(stack.issuer, {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: first.clientId,
      });
      expect(claimsOf(refreshed.access_token).scope).toBe('mcp:tools');
    } finally {
      expect((await admin(membership, { method: 'PUT' })).status).toBe(204);
    }
  });

  // Last: it stops Keycloak.
  it('shows a clear page, and logs why with the request id, when Keycloak is down by the time the person comes back', async () => {
    const userAgent = new UserAgent();
    const atUpstreamCallback = (target: string) =>
      target.startsWith(`${stack.issuer}/federation/callback`);
    // A flow stopped at the redirect from Keycloak back to Gatehouse.
    const { url } = authorizationRequest(
      stack.issuer,
      await register(stack.issuer, 'Outage client'),
    );
    const login = await userAgent.navigate(url.href, atUpstreamCallback);
    const leave = linkHref(login.body, 'Continue with Corp SSO', login.url);
    const atKeycloak = await userAgent.navigate(leave ?? '', atUpstreamCallback);
    const [form] = parseForms(atKeycloak.body, atKeycloak.url);
    if (!form) throw new Error(`no Keycloak login form: ${atKeycloak.body.slice(0, 300)}`);
    const back = await userAgent.submit(
      form,
      { username: 'alice', password: 'alice-password' },
      atUpstreamCallback,
    );
    expect(atUpstreamCallback(back.url)).toBe(true);

    await keycloak.stop();
    const started = Date.now();
    const page = await userAgent.navigate(back.url, (target) => target.startsWith(REDIRECT_URI));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(page.status).toBe(503);
    expect(page.body).toContain('Corp SSO cannot be reached right now.');
    await waitForOutput(stack.authServer, (output) => output.includes('upstream sign-in failed'));
    const logged = stack.authServer
      .output()
      .split('\n')
      .filter((line) => line.includes('upstream sign-in failed'));
    expect(logged.at(-1)).toMatch(/"failure":"unavailable"/);
    expect(logged.at(-1)).toMatch(/"requestId":"[\w-]+"/);
    expect(stack.authServer.output()).not.toContain(SECRET);
    expect(stack.authServer.output()).not.toContain(new URL(back.url).searchParams.get('code'));
  });
});
