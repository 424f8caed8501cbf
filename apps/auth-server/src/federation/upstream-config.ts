import { isScopeToken } from '@gatehouse/auth-core';
import { z } from 'zod';

/**
 * One upstream identity provider people sign in with (`AUTH_FEDERATION`, a JSON array of these).
 * Gatehouse is its client (authorization code + PKCE); MCP clients never see it.
 *
 * - OpenID Connect: `issuer` (discovered, compared exactly), and the ID token proves who signed in.
 * - Plain OAuth 2.0 (GitHub's shape): `authorization_endpoint`, `token_endpoint` and
 *   `userinfo_endpoint`; who signed in is what the userinfo endpoint answers.
 */
const url = (field: string) =>
  z.url({ protocol: /^https?$/, error: `${field} must be an absolute http(s) URL` });

const scope = z
  .string()
  .refine(isScopeToken, 'is not a valid scope (no spaces, quotes or backslashes)');

/** A claim name, or a dotted path into nested claims (`realm_access.roles`). */
const claimPath = z
  .string()
  .regex(/^[\w:-]+(\.[\w:-]+)*$/, 'must be a claim name or a dotted path, e.g. realm_access.roles');

const scopeGrantSchema = z.object({
  /** Who: members of this upstream group or role; absent: everybody who may sign in. */
  group: z.string().min(1).optional(),
  /** Where: this resource (an AUTH_RESOURCES entry); absent: every resource. */
  resource: z.string().optional(),
  scopes: z.array(scope).min(1, 'needs at least one scope'),
});

export const upstreamSchema = z.object({
  /** In URLs and account ids: `<id>:<subject>`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'id must be 1-32 of a-z, 0-9 and -, e.g. corp'),
  /** Shown as "Continue with <name>". */
  name: z.string().min(1).max(64),
  issuer: url('issuer').optional(),
  authorization_endpoint: url('authorization_endpoint').optional(),
  token_endpoint: url('token_endpoint').optional(),
  userinfo_endpoint: url('userinfo_endpoint').optional(),
  client_id: z.string().min(1),
  client_secret: z.string().min(1).optional(),
  /** private_key_jwt instead of a secret: the private JWK (with `d`) Gatehouse signs with. */
  private_key_jwk: z
    .object({ kty: z.string(), d: z.string(), kid: z.string().optional() })
    .loose()
    .optional(),
  /** Default: client_secret_basic with a secret, private_key_jwt with a key. */
  token_endpoint_auth_method: z
    .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
    .optional(),
  /** Default: `openid email profile` with an issuer, none for plain OAuth 2.0. */
  scopes: z.array(scope).optional(),
  /** The claim that identifies the person for good; never a mutable email unless you set it. */
  subject_claim: claimPath.default('sub'),
  username_claim: claimPath.default('preferred_username'),
  email_claim: claimPath.default('email'),
  groups_claim: claimPath.default('groups'),
  /** Only people whose verified email is in one of these domains may sign in. */
  allowed_email_domains: z.array(z.string().min(1)).default([]),
  /** Only members of one of these groups (or roles) may sign in. */
  allowed_groups: z.array(z.string().min(1)).default([]),
  /**
   * Which scopes people get, per group and resource. Without any: every resource's default
   * scopes for everybody who may sign in, nothing more.
   */
  scope_grants: z.array(scopeGrantSchema).optional(),
  /** Seconds each request to the provider may take. */
  timeout: z.number().int().min(1).max(60).default(10),
});

export type UpstreamConfig = z.output<typeof upstreamSchema>;
export type ScopeGrant = z.output<typeof scopeGrantSchema>;

export const FEDERATION_EXAMPLE =
  '[{"id":"corp","name":"Corp SSO","issuer":"https://sso.example.com/realms/corp","client_id":"gatehouse","client_secret":"...","scope_grants":[{"scopes":["mcp:tools"]},{"group":"mcp-admins","scopes":["mcp:tools","mcp:admin"]}]}]';

/**
 * The checks that need the rest of the configuration: one way to find the provider, one way to
 * authenticate to it, https unless on loopback, resources and scopes that exist. Returns the
 * problems as messages naming the upstream and the fix.
 */
export function upstreamProblems(
  upstreams: readonly UpstreamConfig[],
  resources: ReadonlyArray<{ readonly resource: string; readonly scopes: readonly string[] }>,
  /** The AUTH_RESOURCES entry a (canonical) resource names, if any. */
  known: (resource: string) => string | undefined,
  isLoopback: (hostname: string) => boolean,
): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const upstream of upstreams) {
    const at = `AUTH_FEDERATION: upstream ${upstream.id}`;
    if (seen.has(upstream.id)) problems.push(`${at} is listed twice; give each its own id`);
    seen.add(upstream.id);
    const endpoints = [
      upstream.authorization_endpoint,
      upstream.token_endpoint,
      upstream.userinfo_endpoint,
    ];
    if (upstream.issuer && endpoints.some(Boolean)) {
      problems.push(
        `${at}: set either issuer (OpenID Connect discovery) or the three endpoints (plain OAuth 2.0), not both`,
      );
    } else if (!upstream.issuer && !endpoints.every(Boolean)) {
      problems.push(
        `${at}: needs issuer (OpenID Connect), or authorization_endpoint, token_endpoint and userinfo_endpoint (plain OAuth 2.0)`,
      );
    }
    if (Boolean(upstream.client_secret) === Boolean(upstream.private_key_jwk)) {
      problems.push(`${at}: needs exactly one of client_secret and private_key_jwk`);
    } else if (
      upstream.token_endpoint_auth_method !== undefined &&
      (upstream.token_endpoint_auth_method === 'private_key_jwt') !==
        Boolean(upstream.private_key_jwk)
    ) {
      problems.push(
        `${at}: token_endpoint_auth_method ${upstream.token_endpoint_auth_method} does not match the credential given (private_key_jwk for private_key_jwt, client_secret otherwise)`,
      );
    }
    for (const value of [upstream.issuer, ...endpoints]) {
      const parsed = value ? new URL(value) : undefined;
      if (parsed?.protocol === 'http:' && !isLoopback(parsed.hostname)) {
        problems.push(`${at}: ${value} must use https (plain http only on loopback hosts)`);
      }
    }
    for (const [index, grant] of (upstream.scope_grants ?? []).entries()) {
      const where = `${at}: scope_grants[${index}]`;
      const named = grant.resource === undefined ? undefined : known(grant.resource);
      const targets =
        grant.resource === undefined
          ? resources
          : resources.filter((resource) => resource.resource === named);
      if (targets.length === 0) {
        problems.push(`${where}: resource ${grant.resource} is not one of AUTH_RESOURCES`);
        continue;
      }
      for (const granted of grant.scopes) {
        if (!targets.some((resource) => resource.scopes.includes(granted))) {
          problems.push(
            `${where}: scope ${granted} is not a scope of ${grant.resource ?? 'any resource'}`,
          );
        }
      }
    }
  }
  return problems;
}
