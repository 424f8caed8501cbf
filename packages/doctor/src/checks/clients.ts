import type { ClientFixture } from '../corpus.js';
import type { ClientVerdict, Finding, FindingStatus } from '../report.js';
import { stringField, type Walk } from '../walk.js';
import { probeClient } from './client-probe.js';

/** A step of the chain where a client's habit meets a finding. */
interface Reason {
  readonly status: 'warn' | 'fail';
  readonly text: string;
}

/** Discovery failures stop every client, before its own habits matter. */
const BLOCKS_EVERY_CLIENT = [
  'challenge.reachable',
  'challenge.status',
  'resource-metadata.found',
  'resource-metadata.resource',
  'resource-metadata.authorization-servers',
  'resource-metadata.bearer-methods',
  'authorization-server.found',
  'authorization-server.issuer',
  'authorization-server.s256',
  'authorization-server.authorization-endpoint',
  'authorization-server.token-endpoint',
  'authorization-server.response-types',
  'authorization-request.accepted',
  'login.callback',
  'login.state',
  'login.iss',
  'token.exchange',
  'mcp.calls',
];

/**
 * How each client of the corpus will fare on this chain: its habits (how it registers, which
 * redirect URI, whether it sends resource and offline_access, how it refreshes and steps up)
 * against what the walk found. The first reason is where it stops or is at risk.
 */
export function judgeClients(walk: Walk, corpus: readonly ClientFixture[]): ClientVerdict[] {
  const finding = (id: string): Finding | undefined => walk.findings.list.find((f) => f.id === id);
  const failed = (id: string) => finding(id)?.status === 'fail';
  const problem = (id: string) => {
    const status = finding(id)?.status;
    return status === 'fail' || status === 'warn';
  };
  const document = walk.authorizationServer?.document ?? {};
  const dcr = stringField(document, 'registration_endpoint') !== undefined;
  const cimd = document.client_id_metadata_document_supported === true;

  return corpus.map((client) => {
    const reasons: Reason[] = [];
    const add = (status: Reason['status'], text: string) => reasons.push({ status, text });
    for (const id of BLOCKS_EVERY_CLIENT) {
      const blocking = finding(id);
      if (blocking?.status !== 'fail') continue;
      // The MCP server refusing the token is most often its audience: name the cause.
      const cause = id === 'mcp.calls' && failed('token.aud') ? finding('token.aud') : undefined;
      if (cause) {
        add('fail', `stops: ${cause.title} [${cause.id}]`);
        continue;
      }
      if (id === 'authorization-server.issuer' && walk.issuerDiffersBySlashOnly)
        add('warn', `stops if it compares issuers exactly: ${blocking.title} [${blocking.id}]`);
      else add('fail', `stops: ${blocking.title} [${blocking.id}]`);
    }
    // Past a blocker nothing of the client's own habits was reached: they are not judged.
    if (reasons.some((r) => r.status === 'fail') || !walk.authorizationServer)
      return verdict(client, reasons);
    // Registration, the way this client registers.
    if (client.registration.kind === 'dcr') {
      if (!dcr)
        add(
          'fail',
          cimd
            ? 'registers only by DCR, and this server offers only Client ID Metadata Documents'
            : 'registers by DCR, and this server offers no registration_endpoint',
        );
      else if (failed('registration.registered'))
        add(
          'fail',
          `its registration is refused: ${finding('registration.registered')?.title} [registration.registered]`,
        );
      else if (failed('registration.public-client') && client.token.clientAuth === 'none')
        add(
          'warn',
          'registers as a public client and is handed a secret: its code exchange without one may be refused [registration.public-client]',
        );
    } else if (!cimd) {
      add(
        dcr ? 'warn' : 'fail',
        dcr
          ? 'uses a Client ID Metadata Document, which this server does not advertise; it connects only if it falls back to DCR'
          : 'uses a Client ID Metadata Document, which this server does not support',
      );
    }
    const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\{port\}/.test(client.redirectUri);
    if (loopback && failed('authorization-request.loopback-port'))
      add(
        'fail',
        `its redirect URI ${client.redirectUri} changes port per run, and another loopback port is refused [authorization-request.loopback-port]`,
      );
    if (client.authorize.scope === 'metadata' && problem('resource-metadata.offline-access'))
      add(
        'warn',
        'asks for every scope of the resource metadata, offline_access included [resource-metadata.offline-access]',
      );
    // Token audience when it sends no resource.
    if ((!client.authorize.resource || !client.token.resource) && problem('token.without-resource'))
      add(
        'fail',
        `sends no resource${client.authorize.resource ? ' at the token endpoint' : ''}: ${finding('token.without-resource')?.title} [token.without-resource]`,
      );
    // Refresh habits.
    if (client.refresh.supported) {
      if (
        client.authorize.addsOfflineAccess &&
        client.authorize.prompt !== 'consent' &&
        problem('refresh.issued')
      )
        add('warn', `gets no refresh token: ${finding('refresh.issued')?.title} [refresh.issued]`);
      if (!client.authorize.addsOfflineAccess && problem('refresh.without-offline-access'))
        add(
          'warn',
          'never asks for offline_access and gets no refresh token: signs in again at every expiry [refresh.without-offline-access]',
        );
      if (client.refresh.scope === 'none' && problem('refresh.without-scope'))
        add(
          'fail',
          `refreshes without scope: ${finding('refresh.without-scope')?.title} [refresh.without-scope]`,
        );
      if (client.refresh.scope === 'granted+offline_access' && problem('refresh.with-scope'))
        add(
          'fail',
          `refreshes with scope: ${finding('refresh.with-scope')?.title} [refresh.with-scope]`,
        );
      if (client.refresh.parallel && problem('refresh.race'))
        add('fail', `refreshes in parallel: ${finding('refresh.race')?.title} [refresh.race]`);
    }
    if (client.stepUp === 'refresh' && finding('token.step-up'))
      add(
        'warn',
        'steps up by refreshing, which cannot add scopes: what needs more scope stays forbidden [token.step-up]',
      );
    return verdict(client, reasons);
  });
}

function verdict(client: ClientFixture, reasons: readonly Reason[]): ClientVerdict {
  const status: FindingStatus = reasons.some((r) => r.status === 'fail')
    ? 'fail'
    : reasons.length > 0
      ? 'warn'
      : 'pass';
  const ordered = [
    ...reasons.filter((r) => r.status === 'fail'),
    ...reasons.filter((r) => r.status === 'warn'),
  ];
  return { id: client.id, client: client.client, status, reasons: ordered.map((r) => r.text) };
}

/**
 * The clients part of the report: every corpus client's verdict for the table; the clients asked
 * for with `--as` are also probed with their own first requests and become findings, so that a
 * failing verdict fails the run.
 */
export async function reportClients(
  walk: Walk,
  corpus: readonly ClientFixture[],
  chosen: ReadonlySet<string>,
  signedIn: boolean,
): Promise<ClientVerdict[]> {
  const clients = await Promise.all(
    judgeClients(walk, corpus).map(async (verdict) => {
      const fixture = corpus.find((c) => c.id === verdict.id);
      if (!chosen.has(verdict.id) || !fixture) return verdict;
      const own = await probeClient(walk, fixture);
      return own.length === 0
        ? verdict
        : { ...verdict, status: 'fail' as const, reasons: [...own, ...verdict.reasons] };
    }),
  );
  for (const verdict of clients) {
    const fixture = corpus.find((c) => c.id === verdict.id);
    if (!chosen.has(verdict.id) || !fixture) continue;
    walk.findings.add({
      id: `clients.${verdict.id}`,
      step: 'clients',
      status: verdict.status,
      title:
        verdict.status === 'pass'
          ? `${verdict.client} connects${signedIn ? ', signs in and refreshes as it does' : ''}`
          : `${verdict.client} will ${verdict.status === 'fail' ? 'fail' : 'have trouble'} here: ${verdict.reasons[0]}`,
      ...(verdict.reasons.length > 1 ? { detail: verdict.reasons.slice(1).join('\n') } : {}),
      clause: `Client habits: packages/doctor/corpus/${fixture.id}.json (${fixture.version})`,
      ...(verdict.status === 'pass'
        ? {}
        : { fix: 'Fix what the finding named in brackets says; its fix is above.' }),
    });
  }
  return clients;
}
