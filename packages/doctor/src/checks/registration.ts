import { exchange, jsonObject } from '../http.js';
import type { Evidence } from '../report.js';
import { stringField, stringList, type Walk } from '../walk.js';

/** What a typical native MCP client registers (the MCP SDKs, Claude Code's DCR fallback, Codex). */
export function nativeClientRegistration(redirectUri: string): Record<string, unknown> {
  return {
    client_name: 'gatehouse doctor',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  };
}

/** Fixes for refusals whose wording names a known authorization server's setting. */
function knownRefusalFix(text: string): string | undefined {
  if (/Trusted Hosts/i.test(text))
    return 'Keycloak\'s anonymous registration policy "Trusted Hosts" lists no hosts by default. In the realm: Clients → Client registration → Anonymous access policies → Trusted Hosts: add the hosts clients register from (127.0.0.1 and localhost for local clients) and turn off "Client URIs Must Match" for loopback redirect URIs, or remove the policy. Or swap in Gatehouse\'s authorization server, which needs none of this.';
  if (/redirect/i.test(text))
    return 'Allow http loopback redirect URIs (127.0.0.1, localhost, [::1]) with any port for public clients (RFC 8252 §7.3, §8.3).';
  return undefined;
}

/**
 * Step 4: a test registration like a native MCP client's (RFC 7591), judged on what breaks
 * clients later: a refusal, a secret handed to a public client (it is then expected at the token
 * endpoint), grant types nobody asked for, an `application_type` other than the one sent.
 */
export async function checkRegistration(walk: Walk, redirectUri: string): Promise<void> {
  const { findings } = walk;
  const endpoint =
    walk.authorizationServer &&
    stringField(walk.authorizationServer.document, 'registration_endpoint');
  if (!endpoint) {
    findings.add({
      id: 'registration.registered',
      step: 'registration',
      status: 'skip',
      title: 'No test registration: the authorization server offers no registration_endpoint',
    });
    return;
  }
  const body = nativeClientRegistration(redirectUri);
  const answer = await exchange(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const evidence: Evidence[] = [answer.evidence];
  const registered = jsonObject(answer);
  const clientId = registered && stringField(registered, 'client_id');
  if (answer.status !== 201 && answer.status !== 200) {
    const reason = registered
      ? [stringField(registered, 'error'), stringField(registered, 'error_description')]
          .filter(Boolean)
          .join(': ')
      : (answer.error ?? answer.text.slice(0, 200));
    findings.add({
      id: 'registration.registered',
      step: 'registration',
      status: 'fail',
      title:
        `Dynamic Client Registration refused a native client: ${answer.status || ''} ${reason}`.replace(
          /\s+/g,
          ' ',
        ),
      detail:
        'Every client that registers dynamically (VS Code, Cursor, the MCP SDKs, MCP Inspector, Claude Code without metadata documents) stops here.',
      clause: 'RFC 7591 §3; MCP Authorization "Dynamic Client Registration"',
      fix:
        knownRefusalFix(answer.text) ??
        'Accept anonymous registrations of public clients (token_endpoint_auth_method "none") with loopback redirect URIs.',
      evidence,
    });
    return;
  }
  if (!registered || !clientId) {
    findings.add({
      id: 'registration.registered',
      step: 'registration',
      status: 'fail',
      title: 'The registration answer has no client_id',
      clause: 'RFC 7591 §3.2.1',
      fix: 'Answer 201 with a JSON body that carries client_id and the registered metadata.',
      evidence,
    });
    return;
  }
  walk.client = { clientId, redirectUri, registered };
  findings.pass(
    'registration',
    'registration.registered',
    `Registered a native public client (${answer.status}); it stays registered on the server`,
  );

  const secret = stringField(registered, 'client_secret');
  const method = stringField(registered, 'token_endpoint_auth_method');
  if (secret || (method && method !== 'none')) {
    findings.add({
      id: 'registration.public-client',
      step: 'registration',
      status: 'fail',
      title: secret
        ? `A client_secret was issued to a public client (token_endpoint_auth_method ${method ?? 'not echoed'})`
        : `Registered with token_endpoint_auth_method "${method}" although "none" was asked`,
      detail:
        'The client asked to be public: it cannot keep a secret and will authenticate with none. If the server now expects the secret at the token endpoint, the code exchange fails with invalid_client; if it does not, the secret is a credential handed out for nothing.',
      clause: 'RFC 7591 §2 (token_endpoint_auth_method), §3.2.1; OAuth 2.1 §2.1',
      fix: 'Honour token_endpoint_auth_method "none": register a public client, issue no client_secret.',
      evidence,
    });
  }
  const grants = stringList(registered, 'grant_types');
  const extra = grants?.filter((g) => g !== 'authorization_code' && g !== 'refresh_token') ?? [];
  if (extra.length > 0) {
    findings.add({
      id: 'registration.grant-types',
      step: 'registration',
      status: 'warn',
      title: `The registered client got grant types it did not ask for: ${extra.join(', ')}`,
      detail:
        'A public client with more grants than it needs widens what a leaked client_id can do.',
      clause: 'RFC 7591 §2; OAuth 2.1 §2.1',
      fix: 'Register exactly the grant types the client asked for.',
      evidence,
    });
  }
  if (grants && !grants.includes('refresh_token')) {
    findings.add({
      id: 'registration.refresh-token-grant',
      step: 'registration',
      status: 'warn',
      title: 'The registered client did not get the refresh_token grant it asked for',
      detail: 'Its users will sign in again every time an access token expires.',
      clause: 'RFC 7591 §3.2.1',
      fix: 'Register the refresh_token grant when asked.',
      evidence,
    });
  }
  const applicationType = stringField(registered, 'application_type');
  if (applicationType && applicationType !== 'native') {
    findings.add({
      id: 'registration.application-type',
      step: 'registration',
      status: 'warn',
      title: `application_type "native" was registered as "${applicationType}"`,
      detail:
        'A web client may not use http loopback redirect URIs; servers that enforce that refuse the authorization request.',
      clause:
        'OpenID Connect Dynamic Registration §2 (application_type); MCP Authorization (2026-07-28) "Client Registration"',
      fix: 'Keep application_type "native" for clients with loopback or private-use redirect URIs.',
      evidence,
    });
  }
}
