import type { UpstreamConfig } from './upstream-config.js';

/** Who signed in at an upstream, as Gatehouse keeps it: from the ID token and/or userinfo claims. */
export interface UpstreamIdentity {
  /** The upstream's stable id for the person (`subject_claim`, `sub` by default). */
  readonly subject: string;
  readonly username: string | undefined;
  readonly email: string | undefined;
  /** True only when the provider says so (`email_verified: true`). */
  readonly emailVerified: boolean;
  readonly name: string | undefined;
  /** `groups_claim`: a list of strings, or one string; empty when the claim is absent. */
  readonly groups: readonly string[];
}

/** The value at a dotted path (`realm_access.roles`) of nested claims. */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 && value.length <= 256
    ? value
    : typeof value === 'number' && Number.isSafeInteger(value)
      ? String(value) // GitHub's numeric user id
      : undefined;

/**
 * The identity in `claims`, or `undefined` when the subject claim is missing or not a string or
 * integer (a provider that names nobody).
 */
export function identityFrom(
  claims: Readonly<Record<string, unknown>>,
  upstream: Pick<
    UpstreamConfig,
    'subject_claim' | 'username_claim' | 'email_claim' | 'groups_claim'
  >,
): UpstreamIdentity | undefined {
  const subject = text(claimAt(claims, upstream.subject_claim));
  if (subject === undefined) return undefined;
  const groups = claimAt(claims, upstream.groups_claim);
  const email = text(claimAt(claims, upstream.email_claim))?.toLowerCase();
  return {
    subject,
    username: text(claimAt(claims, upstream.username_claim)),
    email,
    emailVerified: email !== undefined && claims.email_verified === true,
    name: text(claims.name),
    groups: Array.isArray(groups)
      ? groups.filter((group): group is string => typeof group === 'string')
      : typeof groups === 'string'
        ? [groups]
        : [],
  };
}
