import type { ResponseParts } from './error-response.js';
import { canonicalizeResourceUri } from './resource.js';

/** RFC 9728 §2 Protected Resource Metadata, the members this package publishes. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly resource_name?: string;
  readonly resource_documentation?: string;
  readonly dpop_signing_alg_values_supported?: readonly string[];
}

export interface ProtectedResourceMetadataOptions {
  /** This resource server's URI; published canonical, exactly as tokens must carry it in `aud`. */
  readonly resource: string;
  /** Issuer identifiers of the authorization servers clients should use. */
  readonly authorizationServers: readonly string[];
  /** Scopes for basic use; `offline_access` is dropped (MCP: SHOULD NOT be advertised here). */
  readonly scopesSupported?: readonly string[] | undefined;
  readonly resourceName?: string | undefined;
  readonly resourceDocumentation?: string | undefined;
  readonly dpopSigningAlgValuesSupported?: readonly string[] | undefined;
}

/** Builds the RFC 9728 document for a resource. */
export function buildProtectedResourceMetadata(
  options: ProtectedResourceMetadataOptions,
): ProtectedResourceMetadata {
  const scopes = options.scopesSupported?.filter((scope) => scope !== 'offline_access');
  return {
    resource: canonicalizeResourceUri(options.resource),
    authorization_servers: [...options.authorizationServers],
    ...(scopes && scopes.length > 0 ? { scopes_supported: scopes } : {}),
    // Only the header: RFC 6750 query and body methods are refused by this package.
    bearer_methods_supported: ['header'],
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation
      ? { resource_documentation: options.resourceDocumentation }
      : {}),
    ...(options.dpopSigningAlgValuesSupported && options.dpopSigningAlgValuesSupported.length > 0
      ? { dpop_signing_alg_values_supported: options.dpopSigningAlgValuesSupported }
      : {}),
  };
}

/** Where clients look for the metadata of a resource (RFC 9728 §3.1 and the MCP fallback). */
export interface ProtectedResourceMetadataUrls {
  /** `/.well-known/oauth-protected-resource` inserted between host and path: the one to advertise. */
  readonly pathInserted: string;
  /** `/.well-known/oauth-protected-resource` at the host root: the MCP clients' fallback. */
  readonly root: string;
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** The well-known URLs of a resource's metadata; equal when the resource has no path. */
export function protectedResourceMetadataUrls(resource: string): ProtectedResourceMetadataUrls {
  const url = new URL(canonicalizeResourceUri(resource));
  const path = url.pathname === '/' ? '' : url.pathname;
  return {
    pathInserted: `${url.origin}${WELL_KNOWN}${path}`,
    root: `${url.origin}${WELL_KNOWN}`,
  };
}

/**
 * Answers requests for the metadata at both well-known URLs (CORS open: browser clients read it
 * before they have a token): the document for GET and HEAD, 204 for a preflight, 405 otherwise;
 * `undefined` for any other path.
 */
export function createMetadataResponder(
  metadata: ProtectedResourceMetadata,
  urls: ProtectedResourceMetadataUrls,
): (method: string, path: string) => ResponseParts | undefined {
  const body = JSON.stringify(metadata);
  const paths = new Set([new URL(urls.pathInserted).pathname, new URL(urls.root).pathname]);
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, OPTIONS',
    'access-control-allow-headers': 'mcp-protocol-version',
  };
  return (method, path) => {
    if (!paths.has(path)) return undefined;
    if (method === 'OPTIONS') return { status: 204, headers: cors, body: '' };
    if (method !== 'GET' && method !== 'HEAD') {
      return { status: 405, headers: { ...cors, allow: 'GET, OPTIONS' }, body: '' };
    }
    return {
      status: 200,
      headers: {
        ...cors,
        'content-type': 'application/json',
        'cache-control': 'public, max-age=300',
      },
      body: method === 'HEAD' ? '' : body,
    };
  };
}
