import { type Exchange, exchange } from '../http.js';
import { createPkce, randomState } from '../pkce.js';
import { stringField, stringList, type Walk } from '../walk.js';

export interface AuthorizationParams {
  readonly redirectUri: string;
  readonly codeChallenge?: string;
  readonly codeChallengeMethod?: string;
  readonly state?: string;
  readonly scope?: string | undefined;
  readonly resource?: string;
  readonly prompt?: string;
  /** Another client than the walk's (a corpus client's own registration). */
  readonly clientId?: string;
}

export function authorizationUrl(walk: Walk, params: AuthorizationParams): string | undefined {
  const endpoint =
    walk.authorizationServer &&
    stringField(walk.authorizationServer.document, 'authorization_endpoint');
  const clientId = params.clientId ?? walk.client?.clientId;
  if (!endpoint || !clientId || !URL.canParse(endpoint)) return undefined;
  const url = new URL(endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  if (params.codeChallenge) url.searchParams.set('code_challenge', params.codeChallenge);
  if (params.codeChallengeMethod)
    url.searchParams.set('code_challenge_method', params.codeChallengeMethod);
  if (params.state) url.searchParams.set('state', params.state);
  if (params.scope) url.searchParams.set('scope', params.scope);
  if (params.resource) url.searchParams.set('resource', params.resource);
  if (params.prompt) url.searchParams.set('prompt', params.prompt);
  return url.href;
}

/** The scope a client sends: the challenge's (or the metadata's), plus offline_access when the authorization server lists it. */
export function clientScope(walk: Walk): string | undefined {
  const scopes = new Set((walk.requestedScope ?? '').split(' ').filter(Boolean));
  const listed =
    walk.authorizationServer && stringList(walk.authorizationServer.document, 'scopes_supported');
  if (listed?.includes('offline_access')) scopes.add('offline_access');
  return scopes.size > 0 ? [...scopes].join(' ') : undefined;
}

export type Outcome =
  | { readonly kind: 'proceeds'; readonly answer: Exchange }
  | { readonly kind: 'refused'; readonly error: string; readonly answer: Exchange };

/** Where an authorization request leads without a user: on to sign-in or consent, or refused (an error redirect or an error page). */
export async function probe(url: string, redirectUri: string): Promise<Outcome> {
  const answer = await exchange(url);
  if (answer.status === 0) return { kind: 'refused', error: answer.error ?? 'no answer', answer };
  const location = answer.headers.get('location');
  if (answer.status >= 300 && answer.status < 400 && location) {
    const target = new URL(location, url);
    const redirect = new URL(redirectUri);
    const toClient = target.hostname === redirect.hostname && target.pathname === redirect.pathname;
    if (toClient && target.searchParams.has('error')) {
      const description = target.searchParams.get('error_description');
      return {
        kind: 'refused',
        error: `${target.searchParams.get('error')}${description ? `: ${description}` : ''}`,
        answer,
      };
    }
    return { kind: 'proceeds', answer };
  }
  if (answer.status >= 400)
    return { kind: 'refused', error: `an error page (${answer.status})`, answer };
  return { kind: 'proceeds', answer };
}

/**
 * Step 5: authorization requests a client sends, without signing in: the normal one must lead to
 * sign-in; one from another loopback port must too (clients pick a port per run); `plain` PKCE and
 * no PKCE must be refused before anyone signs in.
 */
export async function checkAuthorizationRequest(walk: Walk): Promise<void> {
  const { findings, client } = walk;
  const methods =
    walk.authorizationServer &&
    stringList(walk.authorizationServer.document, 'code_challenge_methods_supported');
  const plainListed = methods?.includes('plain') ?? false;
  if (!client) {
    if (plainListed) reportPlain(walk, 'advertised', undefined);
    findings.add({
      id: 'authorization-request.accepted',
      step: 'authorization-request',
      status: 'skip',
      title:
        'Authorization requests not probed: no client (registration failed or is not offered; pass --client-id)',
    });
    return;
  }
  const pkce = createPkce();
  const base = {
    redirectUri: client.redirectUri,
    codeChallenge: pkce.challenge,
    codeChallengeMethod: 'S256',
    state: randomState(),
    scope: clientScope(walk),
    resource: walk.mcpUrl,
  };
  const normal = await probe(authorizationUrl(walk, base) as string, client.redirectUri);
  if (normal.kind === 'refused') {
    const target = normal.error.startsWith('invalid_target');
    findings.add({
      id: 'authorization-request.accepted',
      step: 'authorization-request',
      status: 'fail',
      title: `A client's authorization request is refused: ${normal.error}`,
      detail: target
        ? `The authorization server does not accept resource=${walk.mcpUrl}; MCP clients must send it (RFC 8707), and it sets the token audience.`
        : 'Sent as MCP clients send it: PKCE S256, state, the challenge scope plus offline_access when listed, resource.',
      clause:
        'OAuth 2.1 §4.1.1; RFC 8707 §2; MCP Authorization "Resource Parameter Implementation"',
      fix: target
        ? `Register ${walk.mcpUrl} as a resource (audience) on the authorization server.`
        : 'Accept this request for a registered public client (see the evidence for what was refused).',
      evidence: [normal.answer.evidence],
    });
    return;
  }
  findings.pass(
    'authorization-request',
    'authorization-request.accepted',
    "A client's authorization request (S256, resource, scope) leads to sign-in",
  );

  const redirect = new URL(client.redirectUri);
  if (redirect.hostname === '127.0.0.1' || redirect.hostname === 'localhost') {
    const otherPort = new URL(client.redirectUri);
    otherPort.port = String((Number(redirect.port) + 1) % 65_535 || 1024);
    const moved = await probe(
      authorizationUrl(walk, { ...base, redirectUri: otherPort.href }) as string,
      otherPort.href,
    );
    if (moved.kind === 'refused') {
      findings.add({
        id: 'authorization-request.loopback-port',
        step: 'authorization-request',
        status: 'fail',
        title: `The same loopback redirect URI on another port is refused: ${moved.error}`,
        detail:
          "Native clients listen on a port chosen at run time (Claude Code, the MCP SDKs, Codex) and reuse the registration; Claude Code's metadata document lists redirect URIs without a port at all.",
        clause: 'RFC 8252 §7.3 (any port for loopback redirect URIs); OAuth 2.1 §8.4.2',
        fix: walk.client?.registered
          ? 'Match loopback redirect URIs (127.0.0.1, [::1], localhost over http) ignoring the port.'
          : 'Match loopback redirect URIs ignoring the port. For a client registered by hand, register the loopback redirect URI without a port (Keycloak then accepts any port: http://127.0.0.1/callback).',
        evidence: [moved.answer.evidence],
      });
    } else {
      findings.pass(
        'authorization-request',
        'authorization-request.loopback-port',
        'Another loopback port is accepted (RFC 8252 §7.3)',
      );
    }
  }

  const plain = await probe(
    authorizationUrl(walk, {
      ...base,
      codeChallenge: pkce.verifier,
      codeChallengeMethod: 'plain',
    }) as string,
    client.redirectUri,
  );
  if (plain.kind === 'proceeds' || plainListed)
    reportPlain(walk, plain.kind === 'proceeds' ? 'accepted' : 'advertised', plain.answer);
  else
    findings.pass(
      'authorization-request',
      'authorization-request.pkce-plain',
      'PKCE "plain" is refused',
    );

  const { codeChallenge: _c, codeChallengeMethod: _m, ...withoutPkce } = base;
  const bare = await probe(authorizationUrl(walk, withoutPkce) as string, client.redirectUri);
  if (bare.kind === 'proceeds') {
    findings.add({
      id: 'authorization-request.pkce-required',
      step: 'authorization-request',
      status: 'fail',
      title: 'An authorization request without PKCE leads to sign-in',
      detail:
        "A public client's code is then usable by whoever intercepts the redirect (another app on the same machine listening on the loopback port, a malicious custom-scheme handler).",
      clause: 'OAuth 2.1 §4.1.1 (code_challenge REQUIRED), §7.5.1',
      fix: 'Require code_challenge with method S256 for every client (in Keycloak: a client policy with the pkce-enforcer executor for all public clients).',
      evidence: [bare.answer.evidence],
    });
  } else {
    findings.pass(
      'authorization-request',
      'authorization-request.pkce-required',
      'A request without PKCE is refused',
    );
  }
}

function reportPlain(
  walk: Walk,
  how: 'accepted' | 'advertised',
  answer: Exchange | undefined,
): void {
  const evidence = answer && how === 'accepted' ? [answer.evidence] : [];
  walk.findings.add({
    id: 'authorization-request.pkce-plain',
    step: 'authorization-request',
    status: 'warn',
    title:
      how === 'accepted'
        ? 'PKCE "plain" is accepted'
        : 'PKCE "plain" is advertised in code_challenge_methods_supported',
    detail:
      'With plain the code challenge is the verifier itself: anyone who sees the authorization request (browser history, logs, a proxy) can redeem an intercepted code. No MCP client needs it, and allowing it invites a downgrade.',
    clause:
      'OAuth 2.1 §4.1.1 (clients MUST use S256), §7.5.2; MCP Authorization "Authorization Code Protection"',
    fix: 'Accept S256 only and advertise "code_challenge_methods_supported": ["S256"]. In Keycloak, which keeps advertising plain, the client attribute pkce.code.challenge.method=S256 or a client policy with the pkce-enforcer executor refuses plain requests.',
    ...(evidence.length > 0 ? { evidence } : {}),
  });
}
