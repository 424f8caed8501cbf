import type { UpstreamIdentity } from './identity.js';
import type { UpstreamConfig } from './upstream-config.js';

export type Admission =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      /** Shown to the person: what rule turned them away, without anything they did not send. */
      readonly reason: string;
    };

/**
 * Whether the person may sign in at all: with `allowed_email_domains`, their email must be
 * verified by the provider and in one of the domains (exactly: `example.com` does not admit
 * `evil-example.com` or `sub.example.com`); with `allowed_groups`, they must be in one of them.
 */
export function admit(
  identity: UpstreamIdentity,
  upstream: Pick<UpstreamConfig, 'allowed_email_domains' | 'allowed_groups'>,
): Admission {
  const domains = upstream.allowed_email_domains.map((domain) => domain.toLowerCase());
  if (domains.length > 0) {
    const domain = identity.email?.split('@').at(-1);
    if (!identity.email || !identity.emailVerified || !domain) {
      return {
        admitted: false,
        reason: 'Your account has no verified email address, which this server requires.',
      };
    }
    if (!domains.includes(domain)) {
      return {
        admitted: false,
        reason: `Accounts with an email address at ${domain} may not sign in here.`,
      };
    }
  }
  if (
    upstream.allowed_groups.length > 0 &&
    !identity.groups.some((group) => upstream.allowed_groups.includes(group))
  ) {
    return {
      admitted: false,
      reason: 'Your account is not in a group that may sign in here.',
    };
  }
  return { admitted: true };
}
