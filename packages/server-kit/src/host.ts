import { isLoopbackHostname, LOOPBACK_HOSTNAMES } from '@gatehouse/auth-core';
import type { Context, Next } from 'koa';
import { sendOAuthError } from './oauth-error.js';

/**
 * The Host a request names must be this server's, or the request is refused, before anything
 * builds a URL from it: a server that answers any Host puts the attacker's host into the URLs it
 * publishes (metadata, registration responses) wherever a cache or proxy lets such a request
 * through, and a loopback server that answers any Host is open to DNS rebinding.
 *
 * - Malformed, missing (HTTP/1.1) or repeated Host: 400 (RFC 9112 §3.2).
 * - Another host name: 421 Misdirected Request (RFC 9110 §15.5.20). The port is not compared:
 *   instances behind a balancer listen on ports of their own and nothing is built from the port
 *   (what an attacker needs to change is the name).
 * - Behind a proxy (`proxy: true`) the host is the first X-Forwarded-Host when present, else Host.
 * - A loopback origin also answers to the other loopback names (localhost, 127.0.0.1, [::1]): the
 *   same machine, and what local clients type.
 * - `exemptPaths` (health checks) are answered whatever the Host: load balancers probe instances by
 *   address and nothing there is built from the Host.
 */

/** `host[:port]` parsed and normalised, or undefined when it is not a valid authority. */
export function parseHostHeader(
  value: string,
  protocol: 'http:' | 'https:',
): { hostname: string; port: string } | undefined {
  // Only the characters an authority without userinfo may have (RFC 3986 §3.2.2).
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(:\d{1,5})?$/.test(value))
    return undefined;
  const url = URL.parse(`${protocol}//${value}`);
  if (url?.pathname !== '/') return undefined;
  const defaultPort = protocol === 'https:' ? '443' : '80';
  const explicit = /:(\d{1,5})$/.exec(value)?.[1];
  if (explicit !== undefined && Number(explicit) > 65535) return undefined;
  return { hostname: url.hostname, port: url.port || defaultPort };
}

export interface HostGuardOptions {
  /** This server's public origin, e.g. the issuer's `https://auth.example.com`. */
  readonly origin: string;
  /** Trust X-Forwarded-Host (the app runs behind a proxy that sets it). */
  readonly proxy: boolean;
  readonly exemptPaths?: readonly string[];
  /** Logged once per refusal (a warn line: the name is bounded by the logger). */
  readonly onRefused?: (ctx: Context, reason: string) => void;
}

export function hostGuard(options: HostGuardOptions) {
  const origin = new URL(options.origin);
  const protocol = origin.protocol === 'https:' ? 'https:' : 'http:';
  const ours = parseHostHeader(origin.host, protocol);
  const names = new Set(
    ours && isLoopbackHostname(ours.hostname)
      ? LOOPBACK_HOSTNAMES
      : [ours?.hostname ?? origin.hostname],
  );
  const exempt = new Set(options.exemptPaths ?? []);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (exempt.has(ctx.path)) return next();
    const forwarded = options.proxy ? ctx.get('x-forwarded-host').split(',')[0]?.trim() : '';
    const named = forwarded || ctx.get('host');
    if (!named && ctx.req.httpVersion === '1.0') return next();
    const parsed = named ? parseHostHeader(named, protocol) : undefined;
    if (!parsed) {
      options.onRefused?.(ctx, 'malformed or missing Host');
      sendOAuthError(ctx, 400, 'invalid_request', 'The Host header is missing or malformed');
      return;
    }
    if (!names.has(parsed.hostname)) {
      options.onRefused?.(ctx, 'Host is not this server');
      sendOAuthError(ctx, 421, 'invalid_request', 'This server does not serve the requested host');
      return;
    }
    await next();
  };
}
