import { exchange } from '../http.js';
import type { Walk } from '../walk.js';
import { MCP_HEADERS } from './challenge.js';

const REQUEST_HEADERS = ['authorization', 'content-type', 'mcp-protocol-version'];

function listed(value: string | null): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Step: what a client running in a browser (MCP Inspector's web UI, web-based agents) needs. A
 * server may refuse browser origins on purpose (local servers must validate Origin against DNS
 * rebinding), so a refused preflight is information; a server that does allow the origin but
 * hides `WWW-Authenticate` from it is half-configured, and its browser clients never find the
 * metadata.
 */
export async function checkCors(walk: Walk): Promise<void> {
  const { findings, browserOrigin } = walk;
  const preflight = await exchange(walk.mcpUrl, {
    method: 'OPTIONS',
    headers: {
      origin: browserOrigin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': REQUEST_HEADERS.join(','),
    },
  });
  const allowOrigin = preflight.headers.get('access-control-allow-origin');
  const originAllowed = allowOrigin === '*' || allowOrigin === browserOrigin;
  if (preflight.status < 200 || preflight.status >= 300 || !originAllowed) {
    findings.add({
      id: 'cors.preflight',
      step: 'cors',
      status: 'info',
      title: `Browser clients from ${browserOrigin} are not allowed (preflight ${preflight.status || preflight.error})`,
      detail:
        "Fine if only desktop and CLI clients connect. Browser-based clients (MCP Inspector's web UI) cannot; pass --origin to check another origin.",
      evidence: [preflight.evidence],
    });
    return;
  }
  const allowHeaders = listed(preflight.headers.get('access-control-allow-headers'));
  // A wildcard never covers Authorization (Fetch standard, CORS-safelisted request headers).
  const missing = REQUEST_HEADERS.filter(
    (h) => !allowHeaders.includes(h) && !(allowHeaders.includes('*') && h !== 'authorization'),
  );
  if (missing.length > 0) {
    findings.add({
      id: 'cors.allow-headers',
      step: 'cors',
      status: 'warn',
      title: `The preflight allows ${browserOrigin} but not the headers ${missing.join(', ')}`,
      detail:
        'The browser then blocks every MCP request with a token. Access-Control-Allow-Headers: * does not cover Authorization.',
      clause: 'Fetch standard, CORS protocol (Access-Control-Allow-Headers)',
      fix: `Allow the request headers ${REQUEST_HEADERS.join(', ')}, mcp-session-id and last-event-id by name.`,
      evidence: [preflight.evidence],
    });
  } else {
    findings.pass(
      'cors',
      'cors.preflight',
      `Browser clients from ${browserOrigin} may send MCP requests with a token`,
    );
  }
  const unauthenticated = await exchange(walk.mcpUrl, {
    method: 'POST',
    headers: { ...MCP_HEADERS, origin: browserOrigin },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  const exposed = listed(unauthenticated.headers.get('access-control-expose-headers'));
  if (
    unauthenticated.status === 401 &&
    !exposed.includes('www-authenticate') &&
    !exposed.includes('*')
  ) {
    findings.add({
      id: 'cors.expose-www-authenticate',
      step: 'cors',
      status: 'warn',
      title: 'The 401 does not expose WWW-Authenticate to browser clients',
      detail: `${browserOrigin} may call the server, but script cannot read the challenge: browser clients never learn the resource_metadata URL and scope (MCP Inspector's web UI then guesses the well-known URL or fails).`,
      clause: 'Fetch standard, CORS protocol (Access-Control-Expose-Headers)',
      fix: "Send Access-Control-Expose-Headers: WWW-Authenticate, Mcp-Session-Id on the MCP endpoint's responses.",
      evidence: [unauthenticated.evidence],
    });
  } else if (unauthenticated.status === 401) {
    findings.pass(
      'cors',
      'cors.expose-www-authenticate',
      'WWW-Authenticate is exposed to browser clients',
    );
  }
  for (const [id, url] of [
    ['cors.resource-metadata', walk.resourceMetadata?.url],
    ['cors.authorization-server-metadata', walk.authorizationServer?.url],
  ] as const) {
    if (!url) continue;
    const answer = await exchange(url, { headers: { origin: browserOrigin } });
    const origin = answer.headers.get('access-control-allow-origin');
    if (answer.status === 200 && origin !== '*' && origin !== browserOrigin) {
      findings.add({
        id,
        step: 'cors',
        status: 'warn',
        title: `${url} is not readable from ${browserOrigin}`,
        detail: 'Browser clients allowed on the MCP endpoint stop at the metadata.',
        clause: 'Fetch standard, CORS protocol; RFC 8414 §3 and RFC 9728 §3 (public metadata)',
        fix: 'Serve the metadata with Access-Control-Allow-Origin: *.',
        evidence: [answer.evidence],
      });
    }
  }
}
