import { clientsThat } from '../corpus.js';
import type { LoopbackCallback } from '../loopback-callback.js';
import { grantedScopes } from '../token-client.js';
import { stringList, type Walk } from '../walk.js';
import { type Authorization, type LoginOptions, signedIn, signIn, useToken } from './login.js';

/**
 * Sign-ins as the clients that deviate from the spec's happy path: those that send neither
 * `resource` nor `offline_access` (the corpus names them), and
 * step-up to scopes the first sign-in did not get (clients ask for the union).
 */
export async function checkClientHabits(
  walk: Walk,
  first: Authorization,
  callback: LoopbackCallback,
  login: LoginOptions,
): Promise<void> {
  await checkWithoutResource(walk, first, callback, login);
  await checkStepUp(walk, first, callback, login);
}

async function checkWithoutResource(
  walk: Walk,
  first: Authorization,
  callback: LoopbackCallback,
  login: LoginOptions,
): Promise<void> {
  const { findings } = walk;
  const scope = first.scope
    ?.split(' ')
    .filter((s) => s !== 'offline_access')
    .join(' ');
  const bare = await signIn(walk, callback, login, {
    scope: scope || undefined,
    judge: false,
    resource: false,
    purpose: 'as clients that send neither resource nor offline_access',
  });
  if (!signedIn(bare)) {
    findings.add({
      id: 'token.without-resource',
      step: 'token',
      status: 'warn',
      title: `A sign-in without resource (and without offline_access) fails: ${bare.failure}`,
      detail: `${clientsThat((c) => !c.authorize.resource)} send no resource parameter; they cannot sign in here.`,
      clause: 'RFC 8707 §2 (resource is OPTIONAL for the authorization server)',
      fix: 'Accept authorization requests without resource and issue tokens for the default resource (the MCP server) then.',
    });
    return;
  }
  const used = await useToken(walk, bare.token.accessToken ?? '');
  if (used.accepted) {
    findings.pass(
      'token',
      'token.without-resource',
      'A token requested without resource is accepted by the MCP server',
    );
  } else {
    findings.add({
      id: 'token.without-resource',
      step: 'token',
      status: 'warn',
      title: `A token requested without resource is refused by the MCP server (${used.error})`,
      detail: `${clientsThat((c) => !c.authorize.resource)} send no resource parameter: they sign in, then every call fails. The spec requires clients to send it; these do not, yet.`,
      clause: 'RFC 8707 §2; MCP Authorization "Resource Parameter Implementation"',
      fix: 'Give tokens requested without resource the MCP server as audience by default (Gatehouse does when it protects one resource; Keycloak: an Audience mapper on the default client scope).',
      evidence: [bare.token.exchange.evidence, ...used.evidence],
    });
  }
  if (bare.token.refreshToken) {
    findings.pass(
      'refresh',
      'refresh.without-offline-access',
      'A refresh token is issued without offline_access too',
    );
  } else {
    findings.add({
      id: 'refresh.without-offline-access',
      step: 'refresh',
      status: 'warn',
      title: 'No refresh token without offline_access',
      detail: `Clients that never ask for offline_access (${clientsThat((c) => c.refresh.supported && !c.authorize.addsOfflineAccess)}) sign in again every time the access token expires.`,
      clause: "OAuth 2.1 §4.3 (refresh tokens are the authorization server's choice)",
      fix: 'Issue rotating refresh tokens to public MCP clients whether or not they ask for offline_access (Gatehouse: AUTH_ALWAYS_ISSUE_REFRESH_TOKEN, on by default).',
      evidence: [bare.token.exchange.evidence],
    });
  }
}

async function checkStepUp(
  walk: Walk,
  first: Authorization,
  callback: LoopbackCallback,
  login: LoginOptions,
): Promise<void> {
  const granted = grantedScopes(first.token) ?? [];
  const offered = walk.resourceMetadata
    ? (stringList(walk.resourceMetadata.document, 'scopes_supported') ?? [])
    : [];
  const more = offered.filter((s) => s !== 'offline_access' && !granted.includes(s));
  if (more.length === 0) return;
  const union = [...new Set([...(first.scope?.split(' ') ?? []), ...more])].join(' ');
  const stepped = await signIn(walk, callback, login, {
    scope: union,
    judge: false,
    purpose: `again, stepping up to ${more.join(' ')}`,
  });
  const got = signedIn(stepped) ? (grantedScopes(stepped.token) ?? []) : [];
  const missing = more.filter((s) => !got.includes(s));
  // A scope the resource metadata offers but the authorization server does not know: every
  // client that steps up to it is refused, for every user.
  const unknownScope = !signedIn(stepped) && /invalid_scope/.test(stepped.failure);
  walk.findings.add({
    id: 'token.step-up',
    step: 'token',
    status: unknownScope ? 'warn' : 'info',
    title: !signedIn(stepped)
      ? `Step-up to ${more.join(' ')} (asking for the union, as clients do) is refused: ${stepped.failure}`
      : missing.length === 0
        ? `Step-up to ${more.join(' ')} (asking for the union, as clients do) is granted`
        : `Step-up to ${more.join(' ')} is answered without ${missing.join(' ')} for this user`,
    detail:
      'Clients step up on 403 insufficient_scope by signing in again with the union of what they hold and what the challenge names (VS Code asks for the challenged scopes only; the MCP TypeScript SDK 1.x refreshes, which cannot add scopes).',
    ...(unknownScope
      ? {
          clause:
            'RFC 9728 §2 (scopes_supported: scopes used to access the resource); RFC 6749 §3.3',
          fix: `Define ${more.join(' ')} on the authorization server (in Keycloak: a client scope of that name, optional for the clients), or stop listing it in the protected resource metadata.`,
        }
      : {}),
  });
}
