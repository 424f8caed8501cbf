import { exchange, jsonObject } from '../http.js';
import { stringField, type Walk } from '../walk.js';

/**
 * Step: a code exchange with a made-up code must fail the OAuth way (400, JSON, `invalid_grant`):
 * clients show that error to the user and start over; an HTML page or a 500 leaves them guessing.
 */
export async function checkTokenEndpoint(walk: Walk): Promise<void> {
  const endpoint =
    walk.authorizationServer && stringField(walk.authorizationServer.document, 'token_endpoint');
  if (!endpoint || !walk.client) return;
  const answer = await exchange(endpoint, {
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'gatehouse-doctor-made-up-code',
      redirect_uri: walk.client.redirectUri,
      client_id: walk.client.clientId,
      code_verifier: 'gatehouse-doctor-made-up-verifier-0123456789abcdef',
      resource: walk.mcpUrl,
    }),
    headers: { accept: 'application/json' },
  });
  const error = jsonObject(answer) && stringField(jsonObject(answer) ?? {}, 'error');
  if (answer.status === 400 && error) {
    walk.findings.pass(
      'token-endpoint',
      'token-endpoint.errors',
      `A made-up code is refused with 400 ${error}`,
    );
    return;
  }
  walk.findings.add({
    id: 'token-endpoint.errors',
    step: 'token-endpoint',
    status: 'warn',
    title: `A made-up code is answered ${answer.status || answer.error}${error ? ` ${error}` : ', not a JSON OAuth error'}`,
    detail:
      'Clients read the error code to decide whether to sign in again; anything but a 400 JSON error (401 for client authentication) reads as an outage.',
    clause: 'OAuth 2.1 §3.2.4 (error response)',
    fix: 'Answer token endpoint errors with 400 and {"error":"invalid_grant",...} as application/json.',
    evidence: [answer.evidence],
  });
}
