import { clientsThat } from '../corpus.js';
import type { LoopbackCallback } from '../loopback-callback.js';
import {
  accessTokenClaims,
  grantedScopes,
  hasAudience,
  type TokenAnswer,
  tokenRequest,
} from '../token-client.js';
import type { Walk } from '../walk.js';
import { type Authorization, type LoginOptions, signedIn, signIn } from './login.js';

const whoRefreshesWithoutScope = () =>
  `${clientsThat((c) => c.refresh.supported && c.refresh.scope === 'none')} send no scope on refresh (${clientsThat((c) => c.refresh.supported && !c.refresh.resource)} no resource either)`;
const whoRaces = () =>
  `${clientsThat((c) => c.refresh.supported && c.refresh.parallel)} may refresh several times at once with one refresh token (no single-flight: parallel requests that hit 401 at expiry each refresh)`;
const whoScopesRefresh = () =>
  `${clientsThat((c) => c.refresh.scope === 'granted+offline_access')} send scope=<granted scopes> offline_access on every refresh`;
const whoOfflineWithoutConsent = () =>
  `${clientsThat((c) => c.authorize.addsOfflineAccess && c.authorize.prompt !== 'consent')} add offline_access without prompt=consent`;

/**
 * What breaks sessions after the first sign-in: whether a refresh token comes at all (with
 * offline_access, with and without prompt=consent), refresh without and with `scope`, rotation,
 * two refreshes racing, and what presenting a rotated-out token does.
 */
export async function checkRefresh(
  walk: Walk,
  first: Authorization,
  callback: LoopbackCallback,
  login: LoginOptions,
): Promise<void> {
  const { findings } = walk;
  const askedOffline = first.scope?.split(' ').includes('offline_access') ?? false;
  let refreshToken = first.token.refreshToken;
  if (askedOffline) {
    // prompt=consent is what OpenID Connect requires for offline_access (Core §11); MCP clients mostly never send it.
    const consent = await signIn(walk, callback, login, {
      prompt: 'consent',
      scope: first.scope,
      judge: false,
      purpose: 'again, with prompt=consent',
    });
    const consentToken = signedIn(consent) ? consent.token.refreshToken : undefined;
    const withConsent = consentToken !== undefined;
    if (refreshToken) {
      findings.pass(
        'refresh',
        'refresh.issued',
        `A refresh token is issued for offline_access without prompt=consent${withConsent ? ' and with it' : ''}`,
      );
    } else if (withConsent) {
      findings.add({
        id: 'refresh.issued',
        step: 'refresh',
        status: 'fail',
        title: 'A refresh token is issued only when prompt=consent accompanies offline_access',
        detail: `That is OpenID Connect's rule (Core §11), not OAuth's. ${whoOfflineWithoutConsent()}: they get no refresh token and sign in again every time the access token expires.`,
        clause:
          'MCP Authorization "Refresh Tokens" (clients add offline_access when listed); OpenID Connect Core §11',
        fix: 'Honour offline_access without prompt=consent for MCP clients (Gatehouse does: provider/offline-access.ts), or issue refresh tokens to public clients regardless of offline_access.',
        evidence: [first.token.exchange.evidence],
      });
      refreshToken = consentToken;
    } else {
      findings.add({
        id: 'refresh.issued',
        step: 'refresh',
        status: 'warn',
        title: `No refresh token, with or without prompt=consent${signedIn(consent) ? '' : ` (the sign-in with prompt=consent failed: ${consent.failure})`}`,
        detail: 'Users sign in again every time the access token expires.',
        clause: 'OAuth 2.1 §4.3',
        fix: 'Issue rotating refresh tokens to public clients that ask for offline_access (or always).',
        evidence: [first.token.exchange.evidence],
      });
      return;
    }
  } else if (!refreshToken) {
    findings.add({
      id: 'refresh.issued',
      step: 'refresh',
      status: 'warn',
      title: 'No refresh token (offline_access is not listed, so clients do not ask for it)',
      detail: 'Users sign in again every time the access token expires.',
      clause: 'OAuth 2.1 §4.3; MCP Authorization "Refresh Tokens"',
      fix: 'List offline_access in scopes_supported and issue refresh tokens for it, or issue them to public clients always.',
      evidence: [first.token.exchange.evidence],
    });
    return;
  } else {
    findings.pass('refresh', 'refresh.issued', 'A refresh token is issued');
  }
  if (!refreshToken) return;
  const grantedFirst = grantedScopes(first.token) ?? [];

  // As VS Code and Claude Code refresh: no scope, no resource.
  const plain = await tokenRequest(walk, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
  });
  if (!plain.ok) {
    findings.add({
      id: 'refresh.without-scope',
      step: 'refresh',
      status: 'fail',
      title:
        `A refresh without scope or resource fails: ${plain.exchange.status} ${plain.error ?? ''}`.trim(),
      detail: `${whoRefreshesWithoutScope()}; their sessions end at the first expiry.`,
      clause: "OAuth 2.1 §4.3.1 (scope OPTIONAL; the original grant's scope)",
      fix: "Accept refresh requests without scope (and without resource), keeping the grant's scope and audience.",
      evidence: [plain.exchange.evidence],
    });
    return;
  }
  judgeRefreshed(walk, first.token, plain, grantedFirst);
  const rotatedOut = refreshToken;
  if (!plain.refreshToken || plain.refreshToken === refreshToken) {
    findings.add({
      id: 'refresh.rotation',
      step: 'refresh',
      status: 'fail',
      title: 'The refresh token is not rotated',
      detail:
        "A public client's refresh token must be one-time use (or sender-constrained): otherwise a stolen one works until it expires, and nobody notices.",
      clause:
        'OAuth 2.1 §4.3.1; MCP Authorization "Refresh Tokens" (MUST rotate for public clients)',
      fix: 'Issue a new refresh token on each refresh and retire the old one (with a short reuse interval for racing clients).',
      evidence: [plain.exchange.evidence],
    });
  } else {
    findings.pass(
      'refresh',
      'refresh.rotation',
      'Each refresh returns a new refresh token (whether the old one stops working: refresh.reuse)',
    );
  }
  let current = plain.refreshToken ?? refreshToken;

  // As rmcp, Codex and Goose refresh: the granted scopes plus offline_access, and resource.
  const scoped = await tokenRequest(walk, {
    grant_type: 'refresh_token',
    refresh_token: current,
    scope:
      [
        ...new Set([
          ...grantedFirst,
          ...(first.scope?.includes('offline_access') ? ['offline_access'] : []),
        ]),
      ].join(' ') || undefined,
    resource: walk.mcpUrl,
  });
  if (!scoped.ok) {
    findings.add({
      id: 'refresh.with-scope',
      step: 'refresh',
      status: 'fail',
      title:
        `A refresh that repeats the granted scope and resource fails: ${scoped.exchange.status} ${scoped.error ?? ''}`.trim(),
      detail: `${whoScopesRefresh()}.`,
      clause: 'OAuth 2.1 §4.3.1 (a scope no broader than the original grant); RFC 8707 §2.2',
      fix: "Accept a refresh whose scope equals the granted scope (offline_access included) and whose resource is the grant's.",
      evidence: [scoped.exchange.evidence],
    });
  } else {
    findings.pass(
      'refresh',
      'refresh.with-scope',
      'A refresh repeating scope and resource succeeds',
    );
    current = scoped.refreshToken ?? current;
  }

  const latest = await checkRace(walk, current);
  await checkReuse(walk, rotatedOut, latest, login.reuseWaitSeconds ?? 0);
}

function judgeRefreshed(
  walk: Walk,
  first: TokenAnswer,
  refreshed: TokenAnswer,
  grantedFirst: readonly string[],
): void {
  const claims = refreshed.accessToken ? accessTokenClaims(refreshed.accessToken) : undefined;
  const lost = grantedFirst.filter((s) => !(grantedScopes(refreshed) ?? grantedFirst).includes(s));
  const problems: string[] = [];
  // Judged against the first token's audience: a wrong one is reported once, with the token.
  const firstClaims = first.accessToken ? accessTokenClaims(first.accessToken) : undefined;
  const audienceWasRight = firstClaims ? hasAudience(firstClaims, walk.mcpUrl) : true;
  if (claims && audienceWasRight && !hasAudience(claims, walk.mcpUrl))
    problems.push(`aud is ${JSON.stringify(claims.aud)}, not the MCP server`);
  if (lost.length > 0) problems.push(`the token lost ${lost.join(' ')}`);
  if (problems.length > 0) {
    walk.findings.add({
      id: 'refresh.without-scope',
      step: 'refresh',
      status: 'fail',
      title: `After a refresh without scope or resource, ${problems.join(' and ')}`,
      detail: `${whoRefreshesWithoutScope()}; the MCP server then refuses the refreshed token, and the client loops or asks the user to sign in again.`,
      clause: "OAuth 2.1 §4.3.1 (omitted scope = the original grant's); RFC 8707 §2.2",
      fix: "Keep the grant's scope and resource (audience) on refresh when the client sends neither.",
      evidence: [refreshed.exchange.evidence],
    });
  } else {
    walk.findings.pass(
      'refresh',
      'refresh.without-scope',
      'A refresh without scope or resource keeps the scope and audience',
    );
  }
}

/** Two refreshes at once; returns the refresh token the session holds afterwards, if it survived. */
async function checkRace(walk: Walk, refreshToken: string): Promise<string | undefined> {
  const [a, b] = await Promise.all([
    tokenRequest(walk, { grant_type: 'refresh_token', refresh_token: refreshToken }),
    tokenRequest(walk, { grant_type: 'refresh_token', refresh_token: refreshToken }),
  ]);
  const winner = [a, b].find((t) => t.ok);
  const survivor = winner?.refreshToken
    ? await tokenRequest(walk, { grant_type: 'refresh_token', refresh_token: winner.refreshToken })
    : undefined;
  const evidence = [
    a.exchange.evidence,
    b.exchange.evidence,
    ...(survivor ? [survivor.exchange.evidence] : []),
  ];
  if (a.ok && b.ok && survivor?.ok !== false) {
    walk.findings.pass(
      'refresh',
      'refresh.race',
      'Two refreshes racing with one refresh token both succeed, and the session lives on',
    );
    return survivor?.refreshToken;
  }
  const lostSession = !winner || survivor?.ok === false;
  walk.findings.add({
    id: 'refresh.race',
    step: 'refresh',
    status: 'fail',
    title: lostSession
      ? 'Two refreshes racing with one refresh token end the session (the grant is revoked as reuse)'
      : `Of two refreshes racing with one refresh token, one is refused: ${[a, b].find((t) => !t.ok)?.error ?? ''}`,
    detail: `${whoRaces()}. The refused one makes such a client drop its credentials and ask the user to sign in again.`,
    clause: 'OAuth 2.1 §4.3.1 (rotation); RFC 9700 §4.14.2 (reuse detection)',
    fix: "Let a rotated-out refresh token still refresh for a few seconds after its first use (Auth0's reuse interval, Okta's grace period, Gatehouse's AUTH_REFRESH_REUSE_INTERVAL), and treat later use as reuse.",
    evidence,
  });
  return survivor?.ok ? survivor.refreshToken : undefined;
}

/**
 * A rotated-out refresh token presented again. Right after its use it may still refresh (a reuse
 * interval for racing clients); presented after `waitSeconds` longer than that interval it is
 * reuse (RFC 9700 §4.14.2): it must be refused, and the grant's current refresh token revoked with
 * it, since the server cannot tell the thief from the client.
 */
async function checkReuse(
  walk: Walk,
  rotatedOut: string,
  latest: string | undefined,
  waitSeconds: number,
): Promise<void> {
  if (waitSeconds <= 0) {
    const reuse = await tokenRequest(walk, {
      grant_type: 'refresh_token',
      refresh_token: rotatedOut,
    });
    walk.findings.add({
      id: 'refresh.reuse',
      step: 'refresh',
      status: 'info',
      title: reuse.ok
        ? 'A rotated-out refresh token still refreshes seconds after use (a reuse interval for racing clients, or no reuse detection: --reuse-wait <seconds> tells them apart)'
        : `A rotated-out refresh token is refused seconds after use (${reuse.error ?? reuse.exchange.status})`,
      evidence: [reuse.exchange.evidence],
    });
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
  const reuse = await tokenRequest(walk, {
    grant_type: 'refresh_token',
    refresh_token: rotatedOut,
  });
  const after = latest
    ? await tokenRequest(walk, { grant_type: 'refresh_token', refresh_token: latest })
    : undefined;
  const evidence = [reuse.exchange.evidence, ...(after ? [after.exchange.evidence] : [])];
  if (reuse.ok) {
    walk.findings.add({
      id: 'refresh.reuse',
      step: 'refresh',
      status: 'warn',
      title: `A rotated-out refresh token still refreshes ${waitSeconds} s after it was used`,
      detail:
        "Either reuse is not detected (a stolen refresh token keeps working beside the client's), or the reuse interval is longer than the wait.",
      clause: 'RFC 9700 §4.14.2 (refresh token rotation and reuse detection); OAuth 2.1 §4.3.1',
      fix: "Refuse a rotated-out refresh token once a short interval (seconds) has passed, and revoke the grant's current refresh token with it.",
      evidence,
    });
  } else if (after?.ok) {
    walk.findings.add({
      id: 'refresh.reuse',
      step: 'refresh',
      status: 'warn',
      title: `Reuse ${waitSeconds} s later is refused, but the grant's current refresh token still works`,
      detail:
        'The server cannot tell whether the thief or the client presented the old token; if the thief refreshed first, it keeps the session.',
      clause: 'RFC 9700 §4.14.2 (revoke the active refresh token on reuse)',
      fix: 'On reuse of a rotated-out refresh token, revoke every refresh token of that grant.',
      evidence,
    });
  } else {
    walk.findings.pass(
      'refresh',
      'refresh.reuse',
      `Reuse ${waitSeconds} s later is refused and revokes the grant's current refresh token`,
      { evidence },
    );
  }
}
