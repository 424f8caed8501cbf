import type { LoopbackCallback } from '../loopback-callback.js';
import { McpSession } from '../mcp-client.js';
import { createPkce, randomState } from '../pkce.js';
import type { Evidence, Finding } from '../report.js';
import {
  accessTokenClaims,
  audiences,
  grantedScopes,
  hasAudience,
  type TokenAnswer,
  tokenRequest,
} from '../token-client.js';
import { stringField, type Walk } from '../walk.js';
import { authorizationUrl } from './authorization-request.js';

/** How the user is sent to the authorization server: a browser, or a headless one in tests. */
export interface LoginOptions {
  /** Sends the user to the authorization URL (opens a browser, prints it, or drives a test user agent). */
  readonly open: (authorizationUrl: string, purpose: string) => Promise<void> | void;
  /** How long to wait for each authorization response; default 5 minutes. */
  readonly timeoutMs?: number;
  /**
   * Seconds to wait before presenting a rotated-out refresh token again; longer than the server's
   * reuse interval tells reuse detection from the interval. 0 (default) presents it at once.
   */
  readonly reuseWaitSeconds?: number;
}

export interface Authorization {
  readonly token: TokenAnswer;
  readonly scope: string | undefined;
}

/** A sign-in that did not end with tokens, and why (the finding's title). */
export interface SignInFailure {
  readonly failure: string;
}

export function signedIn(result: Authorization | SignInFailure): result is Authorization {
  return 'token' in result;
}

/**
 * One full sign-in as a native client does it: the authorization request with PKCE S256, state,
 * resource and the client's scope; the response checked for state and RFC 9207 iss; the code
 * exchanged with resource. Findings are added only when `judge` is set (the first sign-in); later
 * rounds (prompt=consent, no resource, step-up) return their failure to their caller.
 */
export async function signIn(
  walk: Walk,
  callback: LoopbackCallback,
  login: LoginOptions,
  round: {
    readonly prompt?: string;
    readonly scope: string | undefined;
    readonly judge: boolean;
    /** Why this sign-in, for the user who is asked to do it again. */
    readonly purpose: string;
    /** Send resource (default true); false signs in as clients that omit it. */
    readonly resource?: boolean;
  },
): Promise<Authorization | SignInFailure> {
  // The first sign-in's failures are findings; a later round's failure is its caller's to report.
  const failed = (finding: Finding): SignInFailure => {
    if (round.judge) walk.findings.add(finding);
    return { failure: finding.title };
  };
  const pkce = createPkce();
  const state = randomState();
  const url = authorizationUrl(walk, {
    redirectUri: callback.redirectUri,
    codeChallenge: pkce.challenge,
    codeChallengeMethod: 'S256',
    state,
    scope: round.scope,
    ...(round.resource === false ? {} : { resource: walk.mcpUrl }),
    ...(round.prompt ? { prompt: round.prompt } : {}),
  });
  if (!url) return { failure: 'no authorization endpoint or client' };
  let params: URLSearchParams;
  try {
    await login.open(url, round.purpose);
    params = await callback.next(login.timeoutMs ?? 300_000);
  } catch (error) {
    return failed({
      id: 'login.callback',
      step: 'login',
      status: 'fail',
      title: `No authorization response reached ${callback.redirectUri}: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'Finish signing in within the time; if the browser shows an error page, it names what the authorization server refused.',
    });
  }
  const callbackEvidence: Evidence = {
    request: `GET ${callback.redirectUri}?${redactedQuery(params)}`,
    response: "(the doctor's loopback listener)",
  };
  if (params.has('error')) {
    return failed({
      id: 'login.authorization',
      step: 'login',
      status: 'fail',
      title: `The authorization server answered ${params.get('error')}${params.get('error_description') ? `: ${params.get('error_description')}` : ''}`,
      clause: 'OAuth 2.1 §4.1.2.1',
      fix:
        params.get('error') === 'access_denied'
          ? 'Sign in and allow access when asked.'
          : 'See the error description; the authorization request is in the evidence of the authorization-request step.',
      evidence: [callbackEvidence],
    });
  }
  if (params.get('state') !== state) {
    return failed({
      id: 'login.state',
      step: 'login',
      status: 'fail',
      title: 'The authorization response does not return the state that was sent',
      detail: 'Clients refuse a response whose state they did not send (CSRF protection).',
      clause: 'OAuth 2.1 §4.1.2 (state REQUIRED in the response if it was in the request)',
      fix: 'Return state unchanged on the redirect.',
      evidence: [callbackEvidence],
    });
  }
  if (round.judge) judgeIss(walk, params.get('iss'), callbackEvidence);
  const token = await tokenRequest(walk, {
    grant_type: 'authorization_code',
    code: params.get('code') ?? '',
    redirect_uri: callback.redirectUri,
    code_verifier: pkce.verifier,
    resource: round.resource === false ? undefined : walk.mcpUrl,
  });
  if (!token.ok) {
    return failed({
      id: 'token.exchange',
      step: 'token',
      status: 'fail',
      title:
        `The code exchange failed: ${token.exchange.status || token.exchange.error} ${token.error ?? ''}`.trim(),
      detail:
        'Sent as public MCP clients send it: client_id, code_verifier, redirect_uri and resource.',
      clause: 'OAuth 2.1 §4.1.3; RFC 8707 §2.2',
      fix: token.error?.startsWith('invalid_client')
        ? 'Let public clients (token_endpoint_auth_method none) exchange codes with PKCE alone.'
        : 'See the error; the request is in the evidence.',
      evidence: [token.exchange.evidence],
    });
  }
  if (round.judge)
    walk.findings.pass(
      'token',
      'token.exchange',
      'The code exchange (PKCE, resource) returned an access token',
    );
  return { token, scope: round.scope };
}

function redactedQuery(params: URLSearchParams): string {
  const copy = new URLSearchParams(params);
  if (copy.has('code')) copy.set('code', '[redacted]');
  return copy.toString();
}

/**
 * The issuer responses and tokens must name: the metadata's. When the metadata's issuer already
 * differs from the one the resource metadata names (reported as authorization-server.issuer), either
 * is taken, so one root cause is reported once.
 */
function knownIssuers(walk: Walk): string[] {
  const published =
    walk.authorizationServer && stringField(walk.authorizationServer.document, 'issuer');
  const issuers = published ? [published] : [];
  if (walk.issuer && walk.findings.has('authorization-server.issuer', 'fail'))
    issuers.push(walk.issuer);
  return issuers;
}

function judgeIss(walk: Walk, iss: string | null, evidence: Evidence): void {
  const document = walk.authorizationServer?.document ?? {};
  const advertised = document.authorization_response_iss_parameter_supported === true;
  const issuer = stringField(document, 'issuer');
  const issuers = knownIssuers(walk);
  if (iss === null) {
    if (!advertised) return; // Reported with the metadata.
    walk.findings.add({
      id: 'login.iss',
      step: 'login',
      status: 'fail',
      title: 'The authorization response has no iss, although the metadata advertises it',
      detail:
        'Clients that check RFC 9207 must then refuse the response as a possible mix-up attack: sign-in fails for them.',
      clause: 'RFC 9207 §2.4 (clients MUST reject a response without iss when it is advertised)',
      fix: 'Add iss=<issuer> to every authorization response, errors included.',
      evidence: [evidence],
    });
  } else if (!issuers.includes(iss)) {
    walk.findings.add({
      id: 'login.iss',
      step: 'login',
      status: 'fail',
      title: `The authorization response's iss is "${iss}", not the issuer "${issuer}"`,
      clause: 'RFC 9207 §2.4',
      fix: 'Send the issuer exactly as the metadata gives it.',
      evidence: [evidence],
    });
  } else {
    walk.findings.pass(
      'login',
      'login.iss',
      'The authorization response carries the right iss (RFC 9207)',
    );
  }
}

/** VS Code refreshes any token that expires within 5 minutes, on every request (docs/refresh.md). */
const REFRESH_AHEAD_SECONDS = 300;

/**
 * The access token as the MCP server will judge it: audience, issuer, lifetime against clients'
 * refresh-ahead habits, scopes; then used as a client would (initialize, tools/list).
 */
export async function judgeAccessToken(walk: Walk, authorization: Authorization): Promise<void> {
  const { findings } = walk;
  const { token } = authorization;
  const evidence = [token.exchange.evidence];
  if (token.tokenType?.toLowerCase() !== 'bearer') {
    findings.add({
      id: 'token.type',
      step: 'token',
      status: token.tokenType?.toLowerCase() === 'dpop' ? 'info' : 'fail',
      title: `token_type is "${token.tokenType ?? 'missing'}", not Bearer`,
      clause: 'OAuth 2.1 §3.2.3; RFC 6750',
      fix: 'Answer token_type "Bearer" for tokens sent in the Authorization header.',
      evidence,
    });
  }
  const claims = token.accessToken ? accessTokenClaims(token.accessToken) : undefined;
  const mcp = await useToken(walk, token.accessToken ?? '');
  if (!claims) {
    findings.add({
      id: 'token.format',
      step: 'token',
      status: 'info',
      title:
        'The access token is opaque: its audience and lifetime are judged by what the MCP server does with it',
    });
  } else {
    const aud = audiences(claims);
    if (!hasAudience(claims, walk.mcpUrl)) {
      findings.add({
        id: 'token.aud',
        step: 'token',
        status: 'fail',
        title: `The token's aud is ${aud.length ? aud.map((a) => `"${a}"`).join(', ') : 'missing'}, not the MCP server "${walk.mcpUrl}"`,
        detail: `${mcp.accepted ? 'The MCP server accepted it anyway, so it does not check the audience: it would also accept tokens this authorization server issued for any other service (confused deputy). ' : 'An MCP server that checks the audience (as it must) refuses it. '}The authorization server must set aud from the resource parameter the client sent.`,
        clause: 'RFC 8707 §2; MCP Authorization "Token Audience Binding and Validation"',
        fix: `Make the authorization server put the resource ("${walk.mcpUrl}") in aud (RFC 8707). In Keycloak: an Audience mapper with included.custom.audience = ${walk.mcpUrl} on the client scope clients ask for (e.g. mcp:tools), or --features=resource-indicators.`,
        evidence,
      });
    } else {
      findings.pass('token', 'token.aud', 'aud is the MCP server URL');
    }
    const issuer =
      walk.authorizationServer && stringField(walk.authorizationServer.document, 'issuer');
    if (typeof claims.iss !== 'string' || !knownIssuers(walk).includes(claims.iss)) {
      findings.add({
        id: 'token.iss',
        step: 'token',
        status: 'fail',
        title: `The token's iss is "${String(claims.iss)}", not the issuer "${issuer}"`,
        clause: 'RFC 9068 §4; RFC 8414 §3.3',
        fix: 'Issue tokens with the issuer exactly as the metadata gives it.',
        evidence,
      });
    }
    const lifetime =
      typeof claims.exp === 'number' && typeof claims.iat === 'number'
        ? claims.exp - claims.iat
        : token.expiresIn;
    if (lifetime !== undefined && lifetime <= REFRESH_AHEAD_SECONDS) {
      findings.add({
        id: 'token.lifetime',
        step: 'token',
        status: 'warn',
        title: `Access tokens live ${lifetime} s`,
        detail:
          'VS Code refreshes every token that expires within 5 minutes on each request: with this lifetime it refreshes before every MCP call, and its windows do not share a lock (racing refreshes). rmcp-based clients (Codex, Goose) refresh 30 s ahead.',
        fix: 'Issue access tokens for 10–15 minutes or more (Gatehouse defaults to 15).',
        evidence,
      });
    } else if (lifetime !== undefined && lifetime > 86_400) {
      findings.add({
        id: 'token.lifetime',
        step: 'token',
        status: 'warn',
        title: `Access tokens live ${Math.round(lifetime / 3600)} h`,
        detail:
          'A resource server that validates JWTs locally keeps accepting a stolen or revoked token until it expires.',
        clause: 'OAuth 2.1 §7.1.3; MCP Authorization "Token Theft" (short-lived access tokens)',
        fix: 'Issue short-lived access tokens (minutes) and rely on refresh tokens for long sessions.',
        evidence,
      });
    } else if (lifetime !== undefined) {
      findings.pass(
        'token',
        'token.lifetime',
        `Access tokens live ${Math.round(lifetime / 60)} min`,
      );
    }
  }
  const asked = (authorization.scope ?? '')
    .split(' ')
    .filter((s) => s && s !== 'offline_access' && s !== 'openid');
  const granted = grantedScopes(token) ?? [];
  const missing = asked.filter((s) => !granted.includes(s));
  if (missing.length > 0 && grantedScopes(token) !== undefined) {
    findings.add({
      id: 'token.scope',
      step: 'token',
      status: 'warn',
      title: `Asked for ${asked.join(' ')}; the token lacks ${missing.join(' ')}`,
      detail:
        'The MCP server will answer 403 insufficient_scope for what needs them, and clients step up by signing in again.',
      clause: 'OAuth 2.1 §3.2.3 (scope in the answer when it differs)',
      fix: 'Grant the scopes the challenge asks for to the users who should use the server (or ask for fewer in the challenge).',
      evidence,
    });
  }
  reportMcp(walk, mcp);
}

export interface McpOutcome {
  readonly accepted: boolean;
  readonly tools?: number;
  readonly evidence: Evidence[];
  readonly error?: string;
}

export async function useToken(walk: Walk, accessToken: string): Promise<McpOutcome> {
  const session = new McpSession(walk.mcpUrl, accessToken);
  const initialize = await session.call('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'gatehouse-doctor', version: '0' },
  });
  if (initialize.error)
    return {
      accepted: false,
      evidence: [initialize.exchange.evidence],
      error: `initialize: ${initialize.error}`,
    };
  await session.notify('notifications/initialized');
  const list = await session.call('tools/list');
  if (list.error)
    return {
      accepted: list.exchange.status === 200,
      evidence: [list.exchange.evidence],
      error: `tools/list: ${list.error}`,
    };
  const tools = Array.isArray(list.result?.tools) ? list.result.tools.length : 0;
  return {
    accepted: true,
    tools,
    evidence: [initialize.exchange.evidence, list.exchange.evidence],
  };
}

function reportMcp(walk: Walk, mcp: McpOutcome): void {
  if (mcp.error) {
    walk.findings.add({
      id: 'mcp.calls',
      step: 'mcp',
      status: 'fail',
      title: `With the new token, ${mcp.error}`,
      detail:
        'The token the authorization server just issued for this server is refused (or the call fails): every client stops here after signing in.',
      clause: 'MCP Authorization "Token Handling"',
      fix: "Compare the token's iss, aud and scope (token step) with what the MCP server expects; its logs (and some servers' error_description) say which check refused it.",
      evidence: mcp.evidence,
    });
    return;
  }
  walk.findings.pass(
    'mcp',
    'mcp.calls',
    `initialize and tools/list succeed with the token (${mcp.tools} tools)`,
  );
}
