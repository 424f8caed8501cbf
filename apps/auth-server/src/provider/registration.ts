import { createHash, randomBytes } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Registration hygiene: identical dynamic registrations of a public client get the same client_id,
 * so a tool that registers on every start (most MCP clients do) updates one client instead of
 * piling up new ones. The id is derived from the registration metadata, with loopback redirect
 * ports ignored (clients pick a new port per run, and loopback matching ignores the port anyway).
 * Confidential clients always get a fresh id: their secret must not be shared.
 *
 * A shared id (`pub_…`) must never change: whoever holds one registration's access token could
 * otherwise add a redirect URI to a client other users already consented to. RFC 7592 updates and
 * deletes of shared clients are therefore refused (see the registration guard); changed metadata is
 * simply a new registration with a new id.
 */

export const SHARED_CLIENT_PREFIX = 'pub_';

const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/;

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The fingerprint of a registration request, or `undefined` for confidential registrations. */
export function registrationFingerprint(body: Record<string, unknown>): string | undefined {
  const method = body.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none') return undefined;
  const redirectUris = Array.isArray(body.redirect_uris)
    ? body.redirect_uris
        .map((uri) => (typeof uri === 'string' ? uri.replace(LOOPBACK, 'http://$1$3') : uri))
        .sort()
    : body.redirect_uris;
  return createHash('sha256')
    .update(canonicalJson({ ...body, redirect_uris: redirectUris }))
    .digest('base64url')
    .slice(0, 32);
}

/** oidc-provider `features.registration.idFactory`. */
export function clientIdFor(ctx: KoaContextWithOIDC): string {
  const body = (ctx.oidc as unknown as { body?: Record<string, unknown> }).body;
  const fingerprint = body ? registrationFingerprint(body) : undefined;
  return fingerprint
    ? `${SHARED_CLIENT_PREFIX}${fingerprint}`
    : `cli_${randomBytes(16).toString('base64url')}`;
}
