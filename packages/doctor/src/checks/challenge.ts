import { parseChallenges } from '../challenge-header.js';
import { exchange } from '../http.js';
import type { Evidence } from '../report.js';
import type { Walk } from '../walk.js';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'gatehouse-doctor', version: '0' },
  },
});

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
} as const;

/**
 * Step 1: what a client meets first. An `initialize` without a token must answer 401 with a Bearer
 * challenge naming the protected resource metadata (and the scope to ask for); a made-up token must
 * answer 401 `invalid_token`, not 400 or 500, or clients never start the sign-in.
 */
export async function checkChallenge(walk: Walk): Promise<void> {
  const { findings } = walk;
  const answer = await exchange(walk.mcpUrl, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: INITIALIZE,
  });
  const evidence = [answer.evidence];
  if (answer.status === 0) {
    findings.add({
      id: 'challenge.reachable',
      step: 'challenge',
      status: 'fail',
      title: `The MCP server did not answer: ${answer.error}`,
      fix: 'Check the URL (scheme, host, port, path) and that the server is running and reachable from here.',
      evidence,
    });
    return;
  }
  if (answer.status !== 401) {
    findings.add({
      id: 'challenge.status',
      step: 'challenge',
      status: 'fail',
      title: `A request without a token answered ${answer.status}, not 401`,
      detail:
        answer.status >= 200 && answer.status < 300
          ? 'The endpoint is not protected: clients never start a sign-in and call it anonymously.'
          : 'Clients start authorization only on 401; any other status is an error to them.',
      clause: 'MCP Authorization (2026-07-28) "Authorization Server Location"; RFC 6750 §3',
      fix: 'Answer 401 with `WWW-Authenticate: Bearer resource_metadata="…"` to every request without a valid token, before any other processing (body parsing, session lookup).',
      evidence,
    });
    return;
  }
  findings.pass('challenge', 'challenge.status', 'A request without a token answers 401');
  const header = answer.headers.get('www-authenticate');
  const bearer = header
    ? parseChallenges(header).find((c) => c.scheme === 'bearer' || c.scheme === 'dpop')
    : undefined;
  if (!header || !bearer) {
    findings.add({
      id: 'challenge.header',
      step: 'challenge',
      status: 'fail',
      title: header
        ? `The 401's WWW-Authenticate has no Bearer challenge: ${header}`
        : 'The 401 has no WWW-Authenticate header',
      detail:
        'A 401 must carry a challenge. Without one, clients that follow the 2025-06-18 revision never find the protected resource metadata; newer ones fall back to guessing its well-known URL.',
      clause: 'RFC 9110 §15.5.2 (a 401 MUST send WWW-Authenticate); RFC 9728 §5.1',
      fix: 'Send `WWW-Authenticate: Bearer resource_metadata="<metadata URL>", scope="<scopes>"` with every 401.',
      evidence,
    });
  } else {
    walk.challenge = bearer;
    findings.pass(
      'challenge',
      'challenge.header',
      `The 401 carries a ${bearer.scheme === 'dpop' ? 'DPoP' : 'Bearer'} challenge`,
    );
    checkChallengeParams(walk, evidence);
  }
  await checkInvalidToken(walk);
}

function checkChallengeParams(walk: Walk, evidence: readonly Evidence[]): void {
  const { findings } = walk;
  const params = walk.challenge?.params ?? {};
  const metadataUrl = params.resource_metadata;
  if (!metadataUrl) {
    findings.add({
      id: 'challenge.resource-metadata',
      step: 'challenge',
      status: 'warn',
      title: 'The challenge has no resource_metadata parameter',
      detail:
        'Clients built on the 2025-06-18 revision read the metadata URL only from here; newer ones fall back to the well-known URLs.',
      clause: 'RFC 9728 §5.1; MCP Authorization "Protected Resource Metadata Discovery"',
      fix: `Add resource_metadata="<origin>/.well-known/oauth-protected-resource${new URL(walk.mcpUrl).pathname.replace(/\/$/, '')}" to the challenge.`,
      evidence,
    });
  } else if (!URL.canParse(metadataUrl)) {
    findings.add({
      id: 'challenge.resource-metadata',
      step: 'challenge',
      status: 'fail',
      title: `resource_metadata is not an absolute URL: ${metadataUrl}`,
      clause: 'RFC 9728 §5.1',
      fix: 'Give the full https URL of the protected resource metadata.',
      evidence,
    });
  } else {
    findings.pass(
      'challenge',
      'challenge.resource-metadata',
      `The challenge names the metadata: ${metadataUrl}`,
    );
  }
  if (params.scope === undefined) {
    findings.add({
      id: 'challenge.scope',
      step: 'challenge',
      status: 'warn',
      title: 'The challenge has no scope parameter',
      detail:
        'Clients then ask for every scope the protected resource metadata lists, or for none (Claude Code, VS Code send no scope at all when neither names one, and get the authorization server default).',
      clause: 'MCP Authorization "Scope Selection Strategy" (SHOULD include scope)',
      fix: 'Add scope="<the scopes a client needs for basic use>" to the challenge.',
      evidence,
    });
  } else {
    findings.pass('challenge', 'challenge.scope', `The challenge asks for scope "${params.scope}"`);
  }
  if (params.error) {
    findings.add({
      id: 'challenge.error-without-token',
      step: 'challenge',
      status: 'warn',
      title: `A request without any token is answered with error="${params.error}"`,
      detail:
        'A request without credentials should carry no error code. Some clients treat invalid_token as "my token was revoked" and clear stored credentials or loop.',
      clause: 'RFC 6750 §3.1',
      fix: 'Omit error= when the request had no Authorization header; use error="invalid_token" only for a bad token.',
      evidence,
    });
  }
}

async function checkInvalidToken(walk: Walk): Promise<void> {
  const answer = await exchange(walk.mcpUrl, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: 'Bearer gatehouse-doctor-not-a-token' },
    body: INITIALIZE,
  });
  const challenge = parseChallenges(answer.headers.get('www-authenticate') ?? '').find(
    (c) => c.scheme === 'bearer',
  );
  if (answer.status === 401 && challenge?.params.error === 'invalid_token') {
    walk.findings.pass(
      'challenge',
      'challenge.invalid-token',
      'A made-up token answers 401 invalid_token',
    );
    return;
  }
  if (
    answer.status === 401 &&
    !answer.headers.has('www-authenticate') &&
    walk.findings.has('challenge.header', 'fail')
  ) {
    // The missing challenge is one finding already; its error code cannot be judged apart from it.
    walk.findings.pass(
      'challenge',
      'challenge.invalid-token',
      'A made-up token answers 401 (without a challenge: see challenge.header)',
    );
    return;
  }
  walk.findings.add({
    id: 'challenge.invalid-token',
    step: 'challenge',
    status: answer.status === 401 ? 'warn' : 'fail',
    title:
      answer.status === 401
        ? 'A made-up token answers 401 without error="invalid_token"'
        : `A made-up token answers ${answer.status}, not 401`,
    detail:
      answer.status === 401
        ? 'Clients tell an expired or revoked token (refresh, then sign in again) from a missing one by this code.'
        : 'When a stored token expires or is revoked, clients refresh or sign in again only on 401; any other status leaves them stuck with a dead token.',
    clause: 'RFC 6750 §3.1; MCP Authorization "Error Handling"',
    fix: 'Answer 401 with `WWW-Authenticate: Bearer error="invalid_token", resource_metadata="…"` to any token that fails validation.',
    evidence: [answer.evidence],
  });
}
