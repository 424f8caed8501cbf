/**
 * The host names of this machine as URLs spell them (WHATWG `URL.hostname`, so IPv6 in brackets).
 * Plain http is acceptable only to these (OAuth 2.1 §1.5, RFC 8252 §7.3), and a server bound to
 * loopback answers to each of them.
 */
export const LOOPBACK_HOSTNAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** Whether `hostname` (a `URL.hostname`) is one of `LOOPBACK_HOSTNAMES`. */
export function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_HOSTNAMES.includes(hostname);
}
