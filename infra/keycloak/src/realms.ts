import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunningKeycloak } from './launcher.js';

/**
 * A company identity provider for Gatehouse's federated sign-in: realm `upstream`, a confidential
 * client `gatehouse` (PKCE S256, a `groups` claim), people in and out of `mcp-admins` and one whose
 * email domain (other.test) a Gatehouse allow-list can turn away. See docs/federation.md.
 */
export const UPSTREAM_REALM_FILE = fileURLToPath(
  new URL('../upstream-realm.json', import.meta.url),
);

/**
 * Creates a realm in a running Keycloak through its admin REST API (not the startup import: that
 * folder belongs to the shared distribution, and this lets the caller fill in URLs it learns only
 * after Keycloak started). `${NAME:default}` placeholders take `values[NAME]`, else the default,
 * as Keycloak's own import does (JSON-escaped). Returns the realm's issuer.
 */
export async function importRealm(
  keycloak: Pick<RunningKeycloak, 'baseUrl'>,
  file: string,
  values: Readonly<Record<string, string>> = {},
  options: {
    /** Changes the parsed realm before it is sent (e.g. more redirect URIs). */
    readonly adjust?: (realm: Record<string, unknown>) => void;
    readonly adminPassword?: string;
  } = {},
): Promise<string> {
  const text = readFileSync(file, 'utf8').replace(
    /\$\{([A-Z0-9_]+):([^}]*)\}/g,
    (_match, name: string, fallback: string) =>
      JSON.stringify(values[name] ?? fallback).slice(1, -1),
  );
  const realm = JSON.parse(text) as { realm: string } & Record<string, unknown>;
  options.adjust?.(realm);
  const admin = await keycloakAdmin(keycloak, options.adminPassword);
  const created = await admin('/admin/realms', { method: 'POST', body: realm });
  if (created.status !== 201)
    throw new Error(`Keycloak realm ${realm.realm}: ${created.status} ${await created.text()}`);
  return `${keycloak.baseUrl}/realms/${realm.realm}`;
}

/** Requests to a Keycloak's admin REST API (`/admin/...`), as the master realm's admin. */
export type KeycloakAdmin = (
  path: string,
  init?: { readonly method?: string; readonly body?: unknown },
) => Promise<Response>;

/** Signs in as the master realm's admin (admin-cli, password) and returns the request helper. */
export async function keycloakAdmin(
  keycloak: Pick<RunningKeycloak, 'baseUrl'>,
  adminPassword = 'admin',
): Promise<KeycloakAdmin> {
  const response = await fetch(`${keycloak.baseUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: 'admin',
      password: adminPassword,
    }),
  });
  if (!response.ok) throw new Error(`Keycloak admin sign-in: ${response.status}`);
  const { access_token: token } = (await response.json()) as { access_token: string };
  return (path, init = {}) =>
    fetch(`${keycloak.baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
}
