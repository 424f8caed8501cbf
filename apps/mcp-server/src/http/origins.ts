/**
 * Origin allow-list for the Streamable HTTP endpoint (DNS-rebinding protection, MCP transport
 * spec): entries are exact origins, `*`, or origins with a wildcard port (`http://localhost:*`).
 */
export function createOriginMatcher(allowed: readonly string[]): (origin: string) => boolean {
  if (allowed.includes('*')) return () => true;
  const exact = new Set<string>();
  const anyPort: string[] = [];
  for (const entry of allowed) {
    if (entry.endsWith(':*')) anyPort.push(entry.slice(0, -2).toLowerCase());
    else exact.add(new URL(entry).origin);
  }
  return (origin) => {
    // Browsers send an origin serialised (RFC 6454 §6.2). Anything else was written by hand, and
    // the URL parser would normalise it first: `http://127.1:1` becomes `http://127.0.0.1:1`.
    const parsed = URL.parse(origin);
    if (!parsed || parsed.origin !== origin) return false;
    if (exact.has(parsed.origin)) return true;
    return (
      anyPort.includes(`${parsed.protocol}//${parsed.hostname}`.toLowerCase()) ||
      anyPort.includes(`${parsed.protocol}//[${parsed.hostname}]`)
    );
  };
}
