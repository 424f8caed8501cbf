import { z } from 'zod';
import { TemporarilyUnavailableError } from './errors.js';
import { type FetchLike, fetchJson } from './internal/fetch-json.js';

/** RFC 8414 / OpenID Connect Discovery metadata: the members this package reads, the rest kept. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly jwks_uri?: string;
  readonly introspection_endpoint?: string;
  readonly authorization_endpoint?: string;
  readonly token_endpoint?: string;
  readonly [member: string]: unknown;
}

export interface DiscoveryOptions {
  /** Defaults to the global `fetch`. */
  readonly fetch?: FetchLike | undefined;
  /** Per request; default 5000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Largest metadata document accepted; default 256 KiB. */
  readonly maxBytes?: number | undefined;
}

const httpsOrLoopbackUrl = z.url({ protocol: /^https?$/ });

const metadataSchema = z.looseObject({
  issuer: z.string().min(1),
  jwks_uri: httpsOrLoopbackUrl.optional(),
  introspection_endpoint: httpsOrLoopbackUrl.optional(),
  authorization_endpoint: httpsOrLoopbackUrl.optional(),
  token_endpoint: httpsOrLoopbackUrl.optional(),
});

/**
 * The metadata URLs to try for an issuer, in the order of the MCP 2026-07-28 specification:
 * RFC 8414 path-inserted, OIDC path-inserted, OIDC path-appended; for an issuer without a path,
 * the RFC 8414 and OIDC root forms.
 */
export function authorizationServerMetadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  // RFC 8414 §3.1: a terminating "/" is removed before inserting the well-known segment.
  const path = url.pathname.replace(/\/$/, '');
  if (path === '') {
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
 * Discovers an authorization server's metadata from its issuer identifier. The first URL that
 * answers 2xx wins; its `issuer` must equal `issuer` exactly (RFC 8414 §3.3), otherwise discovery
 * fails rather than trusting a document published for someone else.
 *
 * @throws {TemporarilyUnavailableError} reason `discovery_failed` or `metadata_issuer_mismatch`.
 */
export async function discoverAuthorizationServer(
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  const fetchOptions = {
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.timeoutMs ?? 5000,
    maxBytes: options.maxBytes ?? 256 * 1024,
  };
  const failures: string[] = [];
  for (const url of authorizationServerMetadataUrls(issuer)) {
    let body: Record<string, unknown>;
    try {
      ({ body } = await fetchJson(url, fetchOptions));
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
      continue;
    }
    const parsed = metadataSchema.safeParse(body);
    if (!parsed.success) {
      throw new TemporarilyUnavailableError(
        'discovery_failed',
        `metadata at ${url} is invalid: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`,
      );
    }
    if (parsed.data.issuer !== issuer) {
      throw new TemporarilyUnavailableError(
        'metadata_issuer_mismatch',
        `metadata at ${url} names issuer ${JSON.stringify(parsed.data.issuer)}, expected ${JSON.stringify(issuer)}`,
      );
    }
    return parsed.data as AuthorizationServerMetadata;
  }
  throw new TemporarilyUnavailableError(
    'discovery_failed',
    `no metadata found for issuer ${issuer}: ${failures.join('; ')}`,
  );
}
