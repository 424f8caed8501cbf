import { clientsThat } from '../corpus.js';
import { type Exchange, exchange, jsonObject } from '../http.js';
import type { Evidence } from '../report.js';
import { isSecureOrLoopback, stringField, stringList, type Walk } from '../walk.js';

/**
 * The metadata URLs clients try for an issuer, in their order (MCP Authorization "Authorization
 * Server Metadata Discovery"): RFC 8414 and OpenID Connect path-inserted, then OpenID Connect
 * appended. A terminating "/" of the issuer's path is removed first (RFC 8414 §3.1). Written
 * here rather than imported from @gatehouse/auth-core on purpose: the doctor judges servers (ours
 * included) from the specification, not from the code it judges.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  if (!path) {
    return [
      `${url.origin}/.well-known/oauth-authorization-server`,
      `${url.origin}/.well-known/openid-configuration`,
    ];
  }
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * Step 3: the authorization server's metadata, as clients discover it, judged on what clients
 * check before they go on (exact issuer, S256) and on what decides later steps (registration, RFC
 * 9207 `iss`, public clients at the token endpoint, refresh).
 */
export async function checkAuthorizationServerMetadata(walk: Walk): Promise<void> {
  const { findings, issuer } = walk;
  if (!issuer) {
    findings.add({
      id: 'authorization-server.found',
      step: 'authorization-server-metadata',
      status: 'skip',
      title: 'Not checked: no authorization server was found in the resource metadata',
    });
    return;
  }
  const urls = metadataUrls(issuer);
  const answers: Exchange[] = [];
  let used: Exchange | undefined;
  for (const url of urls) {
    const answer = await exchange(url);
    answers.push(answer);
    if (!used && answer.status === 200 && jsonObject(answer)) used = answer;
  }
  if (!used) {
    findings.add({
      id: 'authorization-server.found',
      step: 'authorization-server-metadata',
      status: 'fail',
      title: `No authorization server metadata for ${issuer}`,
      detail: `Tried, in the order clients do: ${urls.join(', ')}.`,
      clause: 'MCP Authorization "Authorization Server Metadata Discovery"; RFC 8414 §3',
      fix: 'Check the issuer URL in authorization_servers (scheme, host, path, trailing slash), and that the authorization server publishes its metadata at one of these URLs.',
      evidence: answers.map((a) => a.evidence),
    });
    return;
  }
  const document = jsonObject(used) ?? {};
  walk.authorizationServer = { url: used.url, document };
  findings.pass(
    'authorization-server-metadata',
    'authorization-server.found',
    `Authorization server metadata at ${used.url}`,
  );
  const evidence: Evidence[] = [used.evidence];
  const rfc8414 = answers[0];
  if (rfc8414 && rfc8414 !== used) {
    // Only OpenID Connect discovery answered: clients of the 2025-06-18 revision never look there.
    findings.add({
      id: 'authorization-server.rfc8414',
      step: 'authorization-server-metadata',
      status: 'warn',
      title: `Nothing at the RFC 8414 URL ${rfc8414.url}; only OpenID Connect discovery answers`,
      detail:
        'Clients built on the 2025-06-18 revision of the MCP specification (and tools of that time) look only for RFC 8414 metadata; OpenID Connect discovery became a fallback in 2025-11-25.',
      clause:
        'RFC 8414 §3.1; MCP Authorization (2025-06-18) "Authorization Server Metadata Discovery"',
      fix: `Serve the same metadata at ${rfc8414.url} (a reverse-proxy rewrite is enough when the authorization server cannot, as with Keycloak's realm paths).`,
      evidence: [rfc8414.evidence],
    });
  }
  const fail = (
    id: string,
    title: string,
    rest: { detail?: string; clause: string; fix: string },
    status: 'fail' | 'warn' = 'fail',
  ) =>
    findings.add({ id, step: 'authorization-server-metadata', status, title, ...rest, evidence });

  const published = document.issuer;
  if (typeof published === 'string' && URL.canParse(published)) {
    const parsed = new URL(published);
    if (parsed.search || parsed.hash)
      fail('authorization-server.issuer-form', `issuer "${published}" has a query or fragment`, {
        clause: 'RFC 8414 §2 (issuer: https, no query or fragment)',
        fix: 'Use an issuer URL without query or fragment.',
      });
  }
  if (published !== issuer) {
    const slash =
      typeof published === 'string' && published.replace(/\/$/, '') === issuer.replace(/\/$/, '');
    walk.issuerDiffersBySlashOnly = slash;
    fail(
      'authorization-server.issuer',
      `issuer is "${String(published)}", but the resource metadata names "${issuer}"`,
      {
        detail: slash
          ? 'Only a trailing slash differs, and that is enough for clients that compare issuers exactly, as RFC 8414 and the 2026-07-28 revision require: the MCP Python SDK stops here. The MCP TypeScript SDK 2.x tolerates this one difference. The reference tutorial\'s server lists ".../realms/master/" while Keycloak\'s issuer is ".../realms/master" (its config needs the slash for urljoin: give AuthSettings an issuer_url of its own).'
          : "Clients of the 2026-07-28 revision compare them exactly and stop here; older ones stop later, at the RFC 9207 iss check or when the token's iss is validated.",
        clause:
          'RFC 8414 §3.3 (issuer MUST be identical); MCP Authorization (2026-07-28) clients MUST validate the issuer',
        fix: `List exactly "${String(published)}" in the protected resource metadata's authorization_servers.`,
      },
    );
  } else {
    findings.pass(
      'authorization-server-metadata',
      'authorization-server.issuer',
      'issuer is exactly the one the resource metadata names',
    );
  }

  const methods = stringList(document, 'code_challenge_methods_supported');
  if (!methods?.includes('S256')) {
    fail(
      'authorization-server.s256',
      methods
        ? `code_challenge_methods_supported is [${methods.join(', ')}], without S256`
        : 'code_challenge_methods_supported is missing',
      {
        detail:
          'MCP clients must refuse to go on when the authorization server does not advertise S256 (the MCP TypeScript SDK does), even when the endpoint would accept it.',
        clause:
          'MCP Authorization "Authorization Code Protection" (MUST verify S256 in metadata); RFC 8414 §2',
        fix: 'Advertise "code_challenge_methods_supported": ["S256"].',
      },
    );
  } else {
    findings.pass(
      'authorization-server-metadata',
      'authorization-server.s256',
      'S256 is advertised',
    );
  }

  if (document.authorization_response_iss_parameter_supported !== true) {
    fail(
      'authorization-server.iss-parameter',
      'authorization_response_iss_parameter_supported is not true',
      {
        detail:
          'Without RFC 9207 iss on authorization responses, a client talking to several authorization servers cannot tell which one answered (mix-up attacks). Clients of the 2026-07-28 revision check it when advertised.',
        clause: 'RFC 9207 §2.3, §3; MCP Authorization (2026-07-28) "Authorization Response"',
        fix: 'Add iss to every authorization response (errors included) and advertise "authorization_response_iss_parameter_supported": true.',
      },
      'warn',
    );
  } else {
    findings.pass(
      'authorization-server-metadata',
      'authorization-server.iss-parameter',
      'RFC 9207 iss is advertised',
    );
  }

  const registration = stringField(document, 'registration_endpoint');
  const cimd = document.client_id_metadata_document_supported === true;
  if (!registration && !cimd) {
    fail(
      'authorization-server.registration',
      'Neither registration_endpoint nor client_id_metadata_document_supported',
      {
        detail:
          'Clients can then connect only with a client_id registered beforehand and typed in by the user; most MCP clients cannot.',
        clause: 'MCP Authorization "Client Registration Approaches"',
        fix: 'Support Client ID Metadata Documents (advertise client_id_metadata_document_supported) and/or Dynamic Client Registration (registration_endpoint).',
      },
    );
  } else {
    findings.pass(
      'authorization-server-metadata',
      'authorization-server.registration',
      `${[registration && 'Dynamic Client Registration', cimd && 'Client ID Metadata Documents']
        .filter(Boolean)
        .join(' and ')} offered`,
    );
  }

  for (const name of ['authorization_endpoint', 'token_endpoint'] as const) {
    const value = stringField(document, name);
    if (!value || !URL.canParse(value)) {
      fail(`authorization-server.${name.replace('_', '-')}`, `${name} is missing`, {
        clause: 'RFC 8414 §2',
        fix: `Publish ${name}.`,
      });
    } else if (!isSecureOrLoopback(new URL(value))) {
      fail('authorization-server.https', `${name} ${value} is not https`, {
        clause: 'OAuth 2.1 §1.5',
        fix: 'Serve every endpoint over https (plain http is for loopback development only).',
      });
    }
  }

  const responseTypes = stringList(document, 'response_types_supported');
  if (responseTypes && !responseTypes.includes('code')) {
    fail(
      'authorization-server.response-types',
      `response_types_supported is [${responseTypes.join(', ')}], without code`,
      {
        clause: 'OAuth 2.1 §4.1; RFC 8414 §2',
        fix: 'Support and advertise the code response type.',
      },
    );
  }
  const grants = stringList(document, 'grant_types_supported');
  if (grants && !grants.includes('authorization_code')) {
    fail(
      'authorization-server.grant-types',
      `grant_types_supported is [${grants.join(', ')}], without authorization_code`,
      {
        clause: 'OAuth 2.1 §4.1',
        fix: 'Support the authorization_code grant.',
      },
    );
  } else if (grants && !grants.includes('refresh_token')) {
    fail(
      'authorization-server.grant-types',
      'grant_types_supported does not list refresh_token',
      {
        detail: 'Without refresh tokens users sign in again every time an access token expires.',
        clause: 'OAuth 2.1 §4.3',
        fix: 'Support the refresh_token grant for public clients (rotating the refresh token on each use).',
      },
      'warn',
    );
  }
  const authMethods = stringList(document, 'token_endpoint_auth_methods_supported');
  if (authMethods && !authMethods.includes('none')) {
    // Information only: Keycloak, for one, serves public clients without listing "none"; the
    // registration and the code exchange show whether this server does.
    findings.add({
      id: 'authorization-server.public-clients',
      step: 'authorization-server-metadata',
      status: 'info',
      title: `token_endpoint_auth_methods_supported is [${authMethods.join(', ')}], without none`,
      detail:
        'MCP clients are public clients: they authenticate with "none" plus PKCE. Some authorization servers serve them without listing it; the test registration and, with --login, the code exchange show whether this one does.',
    });
  }
  await checkJwks(walk, document);
  const scopes = stringList(document, 'scopes_supported');
  if (scopes && !scopes.includes('offline_access')) {
    findings.add({
      id: 'authorization-server.offline-access',
      step: 'authorization-server-metadata',
      status: 'info',
      title: 'scopes_supported does not list offline_access',
      detail: `${clientsThat((c) => c.authorize.addsOfflineAccess)} add offline_access only when it is listed here; whether clients still get a refresh token is checked with --login.`,
    });
  }
}

/**
 * The keys resource servers verify JWT access tokens with: a resource server in front of this
 * authorization server fetches them on its first token, so an unreachable set fails every call.
 */
async function checkJwks(walk: Walk, document: Readonly<Record<string, unknown>>): Promise<void> {
  const jwksUri = stringField(document, 'jwks_uri');
  if (!jwksUri || !URL.canParse(jwksUri)) return;
  const answer = await exchange(jwksUri);
  const keys = jsonObject(answer)?.keys;
  if (answer.status === 200 && Array.isArray(keys) && keys.length > 0) {
    walk.findings.pass(
      'authorization-server-metadata',
      'authorization-server.jwks',
      `The signing keys are published (${keys.length} at jwks_uri)`,
    );
    return;
  }
  walk.findings.add({
    id: 'authorization-server.jwks',
    step: 'authorization-server-metadata',
    status: 'fail',
    title: `jwks_uri ${jwksUri} answers ${answer.status || answer.error}${answer.status === 200 ? ' without keys' : ''}`,
    detail:
      'Resource servers that verify JWT access tokens locally fetch these keys: without them every token is refused.',
    clause: 'RFC 8414 §2 (jwks_uri); RFC 7517 §5 (JWK Set)',
    fix: 'Serve the JWK set ({"keys":[…]}) with the public signing keys at jwks_uri.',
    evidence: [answer.evidence],
  });
}
