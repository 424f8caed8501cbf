import type { ClientFixture } from '../corpus.js';
import { exchange, jsonObject } from '../http.js';
import { createPkce, randomState } from '../pkce.js';
import { stringField, stringList, type Walk } from '../walk.js';
import { authorizationUrl, probe } from './authorization-request.js';

/** The port a `{port}` redirect URI is given in the probe: any free-looking ephemeral port. */
const PROBE_PORT = '53682';

/**
 * `--as <client>`: that client's own first steps, sent as it sends them. Its exact registration
 * body (DCR), then its authorization request with its redirect URI, scope, offline_access,
 * resource and prompt habits. A Client ID Metadata Document client cannot be probed this way: the
 * authorization server would fetch the document from the client's own https URL.
 */
export async function probeClient(walk: Walk, client: ClientFixture): Promise<string[]> {
  const problems: string[] = [];
  const document = walk.authorizationServer?.document;
  const endpoint = document && stringField(document, 'registration_endpoint');
  if (client.registration.kind !== 'dcr' || !endpoint) return problems;
  const withPort = (text: string) => text.replaceAll('{port}', PROBE_PORT);
  const body = withPort(JSON.stringify(client.registration.body));
  const registered = await exchange(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
  });
  const answer = jsonObject(registered);
  const clientId = answer && stringField(answer, 'client_id');
  if (!clientId || registered.status >= 300) {
    const error = answer
      ? [stringField(answer, 'error'), stringField(answer, 'error_description')]
          .filter(Boolean)
          .join(': ')
      : registered.error;
    problems.push(
      `its own registration (${client.sources.find((s) => /DCR|regist/i.test(s.fact))?.url ?? 'the corpus'}) is refused: ${registered.status || ''} ${error ?? ''}`.trim(),
    );
    return problems;
  }
  const redirectUri = withPort(client.redirectUri);
  const metadataScopes =
    (walk.resourceMetadata && stringList(walk.resourceMetadata.document, 'scopes_supported')) ?? [];
  const { scope } = client.authorize;
  const asked =
    scope === 'challenge'
      ? (walk.challenge?.params.scope ?? '').split(' ')
      : scope === 'metadata'
        ? metadataScopes
        : scope === 'none'
          ? []
          : scope.split(' ');
  const scopes = new Set(asked.filter(Boolean));
  if (
    client.authorize.addsOfflineAccess &&
    stringList(document, 'scopes_supported')?.includes('offline_access')
  )
    scopes.add('offline_access');
  const url = authorizationUrl(walk, {
    clientId,
    redirectUri,
    codeChallenge: createPkce().challenge,
    codeChallengeMethod: 'S256',
    ...(client.authorize.state === false ? {} : { state: randomState() }),
    scope: scopes.size > 0 ? [...scopes].join(' ') : undefined,
    ...(client.authorize.resource ? { resource: walk.mcpUrl } : {}),
    ...(client.authorize.prompt ? { prompt: client.authorize.prompt } : {}),
  });
  if (!url) return problems;
  const outcome = await probe(url, redirectUri);
  if (outcome.kind === 'refused')
    problems.push(
      `its own authorization request (redirect ${redirectUri}) is refused: ${outcome.error}`,
    );
  return problems;
}
