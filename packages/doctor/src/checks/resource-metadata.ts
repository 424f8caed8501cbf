import { type Exchange, exchange, jsonObject } from '../http.js';
import type { Evidence } from '../report.js';
import { isSecureOrLoopback, sameResource, stringList, type Walk } from '../walk.js';

/** `https://h/public/mcp` -> `https://h/.well-known/oauth-protected-resource/public/mcp` (RFC 9728 §3.1). */
export function pathInsertedMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/**
 * Step 2: the protected resource metadata, where clients look for it in order (the challenge's
 * URL, then the path-inserted well-known URL, then the root one), judged on what clients rely on:
 * `resource` identical to the URL they connected to, an authorization server, and no
 * `offline_access` in `scopes_supported`.
 */
export async function checkResourceMetadata(walk: Walk): Promise<void> {
  const { findings } = walk;
  const fromChallenge = walk.challenge?.params.resource_metadata;
  const pathInserted = pathInsertedMetadataUrl(walk.mcpUrl);
  const root = `${new URL(walk.mcpUrl).origin}/.well-known/oauth-protected-resource`;
  const candidates = [
    ...new Set(
      [fromChallenge, pathInserted, root].filter((u): u is string => !!u && URL.canParse(u)),
    ),
  ];
  const answers = new Map<string, Exchange>();
  for (const url of candidates) answers.set(url, await exchange(url));
  const usable = (url: string) => {
    const answer = answers.get(url);
    return answer?.status === 200 && jsonObject(answer) !== undefined;
  };

  if (fromChallenge && URL.canParse(fromChallenge) && !usable(fromChallenge)) {
    const answer = answers.get(fromChallenge);
    findings.add({
      id: 'resource-metadata.challenge-url',
      step: 'resource-metadata',
      status: 'fail',
      title: `The challenge's resource_metadata URL answers ${answer?.status || answer?.error}, not metadata`,
      clause: 'RFC 9728 §3.2, §5.1',
      fix: `Serve the protected resource metadata (JSON, 200) at ${fromChallenge}, or point resource_metadata at where it is served.`,
      ...(answer ? { evidence: [answer.evidence] } : {}),
    });
  }
  const used = candidates.find(usable);
  if (!used) {
    findings.add({
      id: 'resource-metadata.found',
      step: 'resource-metadata',
      status: 'fail',
      title: 'No protected resource metadata at any URL clients try',
      detail: `Tried: ${candidates.join(', ')}. Without it clients cannot find the authorization server.`,
      clause: 'MCP Authorization "Protected Resource Metadata Discovery"; RFC 9728 §3',
      fix: `Serve JSON {"resource":"${walk.mcpUrl}","authorization_servers":["<issuer>"]} at ${pathInserted} and name it in the 401 challenge.`,
      evidence: [...answers.values()].map((a) => a.evidence),
    });
    return;
  }
  if (!usable(pathInserted) && pathInserted !== root) {
    const answer = answers.get(pathInserted);
    findings.add({
      id: 'resource-metadata.path-inserted',
      step: 'resource-metadata',
      status: fromChallenge && usable(fromChallenge) ? 'info' : 'warn',
      title: `Nothing at the path-inserted well-known URL ${pathInserted}`,
      detail:
        'Clients that find no resource_metadata in the challenge try this URL before the root one; serving it is what interoperates best.',
      clause: 'RFC 9728 §3.1; MCP Authorization "Protected Resource Metadata Discovery"',
      fix: `Serve the same metadata at ${pathInserted}.`,
      ...(answer ? { evidence: [answer.evidence] } : {}),
    });
  }
  const answer = answers.get(used) as Exchange;
  const document = jsonObject(answer) ?? {};
  walk.resourceMetadata = { url: used, document };
  findings.pass(
    'resource-metadata',
    'resource-metadata.found',
    `Protected resource metadata at ${used}`,
  );
  const evidence: Evidence[] = [answer.evidence];

  const resource = document.resource;
  if (!sameResource(resource, walk.mcpUrl)) {
    const slash =
      typeof resource === 'string' &&
      resource.replace(/\/$/, '') === walk.mcpUrl.replace(/\/$/, '');
    findings.add({
      id: 'resource-metadata.resource',
      step: 'resource-metadata',
      status: 'fail',
      title:
        typeof resource === 'string'
          ? `resource is "${resource}", not the URL clients connect to ("${walk.mcpUrl}")`
          : 'The metadata has no resource',
      detail: `${slash ? 'Only a trailing slash differs, and that is enough: ' : ''}clients check it against the URL they connected to and refuse a mismatch (the MCP TypeScript SDK throws), and the resource they send becomes the token audience the server checks.`,
      clause:
        'RFC 9728 §3.3 (resource MUST be identical); MCP Authorization "Canonical Server URI"',
      fix: `Set resource to exactly "${walk.mcpUrl}", or tell users the URL it names.`,
      evidence,
    });
  } else {
    findings.pass(
      'resource-metadata',
      'resource-metadata.resource',
      'resource is exactly the MCP server URL',
    );
  }

  const servers = stringList(document, 'authorization_servers');
  const first = servers?.[0];
  if (!first || !URL.canParse(first)) {
    findings.add({
      id: 'resource-metadata.authorization-servers',
      step: 'resource-metadata',
      status: 'fail',
      title: 'authorization_servers is missing or empty',
      clause: 'MCP Authorization (MUST list at least one); RFC 9728 §2',
      fix: 'List the issuer URL of your authorization server in authorization_servers.',
      evidence,
    });
  } else {
    walk.issuer = first;
    findings.pass(
      'resource-metadata',
      'resource-metadata.authorization-servers',
      `Authorization server: ${first}`,
    );
    if (!isSecureOrLoopback(new URL(first))) {
      findings.add({
        id: 'resource-metadata.https',
        step: 'resource-metadata',
        status: 'fail',
        title: `The authorization server ${first} is not https`,
        clause: 'OAuth 2.1 §1.5; MCP Authorization "Communication Security"',
        fix: 'Serve the authorization server over https (plain http is for loopback development only).',
        evidence,
      });
    }
  }

  const scopes = stringList(document, 'scopes_supported');
  if (scopes?.includes('offline_access')) {
    findings.add({
      id: 'resource-metadata.offline-access',
      step: 'resource-metadata',
      status: 'warn',
      title: 'scopes_supported lists offline_access',
      detail:
        'offline_access is a scope of the authorization server, not of this resource. Clients that ask for every scope listed here (when the challenge has none) then send it, and authorization servers that only honour it with prompt=consent (OpenID Connect) may refuse or drop it; clients add it themselves when the authorization server lists it.',
      clause: 'MCP Authorization "Scope Selection Strategy" (SHOULD NOT include offline_access)',
      fix: 'Remove offline_access from the protected resource metadata; list it in the authorization server metadata instead.',
      evidence,
    });
  }
  const bearerMethods = stringList(document, 'bearer_methods_supported');
  if (bearerMethods && !bearerMethods.includes('header')) {
    findings.add({
      id: 'resource-metadata.bearer-methods',
      step: 'resource-metadata',
      status: 'fail',
      title: `bearer_methods_supported is [${bearerMethods.join(', ')}], without header`,
      clause: 'MCP Authorization "Token Requirements" (Authorization header only)',
      fix: 'List "header" (or omit bearer_methods_supported).',
      evidence,
    });
  }
  const challengeScope = walk.challenge?.params.scope;
  walk.requestedScope = challengeScope ?? scopes?.join(' ');
}
