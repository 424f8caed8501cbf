import type { Configuration } from 'oidc-provider';

/**
 * Client ID Metadata Documents (an https `client_id` whose document describes the client), on
 * oidc-provider's experimental implementation: exact `client_id` match, no redirects, 2.5 s and
 * size limits, caching by the document's cache headers, no shared-secret authentication, and an
 * SSRF guard that refuses documents on loopback, private and other special-use addresses.
 * `allowedPrivateHosts` lifts that guard for named hosts only, for development against a document
 * server on this machine; never list a host an attacker could point at your network.
 */
export function metadataDocumentConfiguration(
  cimd: {
    enabled: boolean;
    allowedPrivateHosts: readonly string[];
  },
  /**
   * Told once per client id (per process, up to 10,000 ids) when a document's client is first
   * used: for the audit trail's "client registered".
   */
  onFirstUse: (client: { clientId: string; redirectUris?: readonly string[] }) => void = () => {},
): Pick<Configuration, 'fetch'> & {
  feature: NonNullable<NonNullable<Configuration['features']>['clientIdMetadataDocument']>;
} {
  const exempt = new Set(cimd.allowedPrivateHosts);
  const seen = new Set<string>();
  return {
    feature: {
      enabled: cimd.enabled,
      ack: 'draft-02',
      // Every use of a document's client passes here (cached or fetched); nothing is refused.
      allowClient(_ctx: unknown, client: { clientId: string; redirectUris?: readonly string[] }) {
        if (!seen.has(client.clientId)) {
          if (seen.size >= 10_000) seen.clear();
          seen.add(client.clientId);
          onFirstUse(client);
        }
        return true;
      },
    } as NonNullable<NonNullable<Configuration['features']>['clientIdMetadataDocument']>,
    fetch(url, options) {
      const host = new URL(String(url)).hostname.replace(/^\[|\]$/g, '').toLowerCase();
      if (exempt.has(host)) {
        // Without oidc-provider's SSRF-checking dispatcher, the default one connects to loopback.
        const { dispatcher: _guarded, ...rest } = options as RequestInit & { dispatcher?: unknown };
        return globalThis.fetch(url, rest);
      }
      return globalThis.fetch(url, options);
    },
  };
}
