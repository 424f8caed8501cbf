import { ConfigurationError } from './errors.js';

/**
 * Canonical resource URIs (RFC 8707 §2, MCP authorization "Canonical Server URI"): lowercase scheme
 * and host, no default port, no fragment, and no single trailing slash. Every comparison of a
 * resource or audience in this package goes through here, so `HTTPS://Host:443/mcp/` and
 * `https://host/mcp` are the same resource and `https://host/mcp-admin` is never mistaken for it.
 */

/** Canonicalises a resource URI, or returns `undefined` when the value is not an http(s) URI. */
export function tryCanonicalizeResourceUri(value: string | URL): string | undefined {
  let url: URL;
  try {
    url = typeof value === 'string' ? new URL(value) : new URL(value.href);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.hash !== '' || (typeof value === 'string' && value.includes('#'))) return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  // URL already lowercases scheme and host and drops default ports; only the slash is ours to fix.
  let path = url.pathname;
  if (path.endsWith('/')) path = path.slice(0, -1);
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** Canonicalises a configured resource URI; throws {@link ConfigurationError} naming `label`. */
export function canonicalizeResourceUri(value: string | URL, label = 'resource'): string {
  const canonical = tryCanonicalizeResourceUri(value);
  if (canonical === undefined) {
    throw new ConfigurationError(
      `${label} must be an absolute http(s) URI without fragment or credentials, got ${JSON.stringify(String(value))}`,
    );
  }
  return canonical;
}

/**
 * Builds a matcher for `aud` values: true when a value denotes one of `accepted` exactly after
 * canonicalisation. Values that are not http(s) URIs (a Keycloak client id, say) match verbatim.
 */
export function createAudienceMatcher(accepted: readonly string[]): (audience: unknown) => boolean {
  const canonicalAccepted = new Set<string>();
  const verbatimAccepted = new Set<string>();
  for (const value of accepted) {
    const canonical = tryCanonicalizeResourceUri(value);
    if (canonical === undefined) verbatimAccepted.add(value);
    else canonicalAccepted.add(canonical);
  }
  // Audience strings repeat on every request; remembering verdicts keeps URL parsing off the hot path.
  const verdicts = new Map<string, boolean>();
  const matchesOne = (value: unknown): boolean => {
    if (typeof value !== 'string') return false;
    const known = verdicts.get(value);
    if (known !== undefined) return known;
    const canonical = tryCanonicalizeResourceUri(value);
    const verdict =
      canonical === undefined ? verbatimAccepted.has(value) : canonicalAccepted.has(canonical);
    if (verdicts.size >= 1024) verdicts.clear();
    verdicts.set(value, verdict);
    return verdict;
  };
  return (audience) => (Array.isArray(audience) ? audience.some(matchesOne) : matchesOne(audience));
}
