import { errors } from 'oidc-provider';

/**
 * Registration policy for dynamically registered clients, applied by oidc-provider's
 * `extraClientMetadata.validator` before its own validation (it may adjust the metadata):
 *
 * - Redirect URIs: https anywhere; http only on loopback hosts; custom schemes of native apps
 *   (`cursor://`, `vscode://`); never `javascript:`, `data:`, `file:` or a fragment.
 * - Loopback and custom-scheme redirect URIs make the client `native`, whatever it said, because
 *   oidc-provider matches loopback redirects on any port (RFC 8252 §7.3) only for native clients, and
 *   Claude Code, VS Code and others register one port and come back on another.
 * - A `scope` in the registration is dropped: oidc-provider would otherwise refuse any later request
 *   for another scope, which breaks MCP step-up authorization.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const FORBIDDEN_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'blob:',
  'about:',
  'ftp:',
  'ws:',
  'wss:',
]);

export const POLICY_PROPERTY = 'gatehouse_registration_policy';

type Metadata = Record<string, unknown>;

export function classifyRedirectUri(uri: string): 'https' | 'loopback' | 'custom-scheme' {
  const parsed = URL.parse(uri);
  if (!parsed)
    throw new errors.InvalidRedirectUri(
      `redirect_uris must be absolute URIs: ${JSON.stringify(uri)}`,
    );
  if (uri.includes('#'))
    throw new errors.InvalidRedirectUri('redirect_uris must not contain a fragment');
  if (FORBIDDEN_SCHEMES.has(parsed.protocol)) {
    throw new errors.InvalidRedirectUri(
      `redirect_uris must not use the ${parsed.protocol.slice(0, -1)} scheme`,
    );
  }
  if (parsed.protocol === 'https:') return 'https';
  if (parsed.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(parsed.hostname)) {
      throw new errors.InvalidRedirectUri(
        'redirect_uris may use plain http only on loopback hosts (localhost, 127.0.0.1, [::1]); use https',
      );
    }
    return 'loopback';
  }
  // Private-use schemes must look like reverse domain names or simple app names (RFC 8252 §7.1).
  if (!/^[a-z][a-z0-9+.-]*:$/.test(parsed.protocol)) {
    throw new errors.InvalidRedirectUri(`redirect_uris has an invalid scheme: ${parsed.protocol}`);
  }
  return 'custom-scheme';
}

export function applyRegistrationPolicy(key: string, metadata: Metadata): void {
  if (key !== POLICY_PROPERTY) return;
  const uris = Array.isArray(metadata.redirect_uris) ? (metadata.redirect_uris as unknown[]) : [];
  const kinds = uris.map((uri) => {
    if (typeof uri !== 'string')
      throw new errors.InvalidRedirectUri('redirect_uris must be strings');
    return classifyRedirectUri(uri);
  });
  if (kinds.length > 0 && kinds.every((kind) => kind !== 'https'))
    metadata.application_type = 'native';
  if (
    kinds.includes('https') &&
    kinds.some((kind) => kind !== 'https') &&
    metadata.application_type !== 'native'
  ) {
    // A web client cannot use loopback or custom schemes in oidc-provider; native can use all three.
    metadata.application_type = 'native';
  }
  delete metadata.scope;
  metadata[POLICY_PROPERTY] = undefined;
}
