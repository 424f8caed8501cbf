import { isLoopbackHostname } from '@gatehouse/auth-core';
import { errors } from 'oidc-provider';

/**
 * Registration policy for dynamically registered clients, applied by oidc-provider's
 * `extraClientMetadata.validator` before its own validation (it may adjust the metadata):
 *
 * - Redirect URIs (and post-logout redirect URIs): https anywhere; http only on loopback hosts;
 *   custom schemes of native apps (`cursor://`, `vscode://`); never `javascript:`, `data:`, `file:`
 *   or a fragment. Only the characters RFC 3986 allows in a URI, with valid percent-escapes, and no
 *   userinfo: a URL parser drops or rewrites anything else (control characters, spaces, bidi
 *   overrides, backslashes), so the registered string and the real redirect target would differ.
 * - Loopback and custom-scheme redirect URIs make the client `native`, whatever it said, because
 *   oidc-provider matches loopback redirects on any port (RFC 8252 §7.3) only for native clients, and
 *   Claude Code, VS Code and others register one port and come back on another.
 * - A `scope` in the registration is dropped: oidc-provider would otherwise refuse any later request
 *   for another scope, which breaks MCP step-up authorization.
 */

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

/** RFC 3986's unreserved, reserved and `%`: no controls, spaces, quotes, backslashes or non-ASCII. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;

type RedirectField = 'redirect_uris' | 'post_logout_redirect_uris';

/**
 * oidc-provider's registration error: `invalid_redirect_uri` when the description starts with
 * `redirect_uris`, else `invalid_client_metadata`. (Its InvalidRedirectUri class would replace our
 * description with one about authorization requests.)
 */
function invalid(field: RedirectField, message: string): Error {
  return new errors.InvalidClientMetadata(`${field} ${message}`);
}

export function classifyRedirectUri(
  uri: string,
  field: RedirectField = 'redirect_uris',
): 'https' | 'loopback' | 'custom-scheme' {
  if (!URI_CHARACTERS.test(uri) || BAD_ESCAPE.test(uri))
    throw invalid(field, 'must be URIs of RFC 3986 characters only (percent-encode anything else)');
  if (AUTHORITY.exec(uri)?.[1]?.includes('@')) throw invalid(field, 'must not contain userinfo');
  const parsed = URL.parse(uri);
  if (!parsed) throw invalid(field, `must be absolute URIs: ${JSON.stringify(uri)}`);
  if (uri.includes('#')) throw invalid(field, 'must not contain a fragment');
  if (FORBIDDEN_SCHEMES.has(parsed.protocol))
    throw invalid(field, `must not use the ${parsed.protocol.slice(0, -1)} scheme`);
  if (parsed.protocol === 'https:') return 'https';
  if (parsed.protocol === 'http:') {
    if (!isLoopbackHostname(parsed.hostname)) {
      throw invalid(
        field,
        'may use plain http only on loopback hosts (localhost, 127.0.0.1, [::1]); use https',
      );
    }
    return 'loopback';
  }
  // Private-use schemes must look like reverse domain names or simple app names (RFC 8252 §7.1).
  if (!/^[a-z][a-z0-9+.-]*:$/.test(parsed.protocol))
    throw invalid(field, `has an invalid scheme: ${parsed.protocol}`);
  return 'custom-scheme';
}

/**
 * `configured`: the ids of the operator's clients (`AUTH_CLIENTS`), which keep their `scope` (the
 * scopes they may ask for with client credentials). Every other client, registered by DCR or
 * described by a metadata document, loses `client_credentials`: anyone can register, so a
 * registered client must never get a token without a user.
 */
export function applyRegistrationPolicy(
  key: string,
  metadata: Metadata,
  configured: ReadonlySet<string> = new Set(),
): void {
  if (key !== POLICY_PROPERTY) return;
  const isConfigured = typeof metadata.client_id === 'string' && configured.has(metadata.client_id);
  if (!isConfigured && Array.isArray(metadata.grant_types))
    metadata.grant_types = metadata.grant_types.filter((grant) => grant !== 'client_credentials');
  const logoutUris = Array.isArray(metadata.post_logout_redirect_uris)
    ? (metadata.post_logout_redirect_uris as unknown[])
    : [];
  for (const uri of logoutUris) {
    if (typeof uri !== 'string') throw invalid('post_logout_redirect_uris', 'must be strings');
    classifyRedirectUri(uri, 'post_logout_redirect_uris');
  }
  const uris = Array.isArray(metadata.redirect_uris) ? (metadata.redirect_uris as unknown[]) : [];
  const kinds = uris.map((uri) => {
    if (typeof uri !== 'string') throw invalid('redirect_uris', 'must be strings');
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
  if (!isConfigured) delete metadata.scope;
  metadata[POLICY_PROPERTY] = undefined;
}
