import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The CSRF token of an interaction's forms: an HMAC of its uid with a server secret, on top of
 * oidc-provider's own interaction cookie (which a cross-site form post cannot present with
 * SameSite=Lax). Bound to the interaction, so a token seen on one sign-in is worthless on another.
 */
export interface InteractionCsrf {
  tokenFor(uid: string): string;
  valid(uid: string, token: unknown): boolean;
}

export function interactionCsrf(secret: string): InteractionCsrf {
  const tokenFor = (uid: string) => createHmac('sha256', secret).update(uid).digest('base64url');
  return {
    tokenFor,
    valid(uid, token) {
      if (typeof token !== 'string') return false;
      const expected = Buffer.from(tokenFor(uid));
      const actual = Buffer.from(token);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
