import type { ModelPayload } from '../store/store.js';

/**
 * Refresh-token reuse: what a rotated-out refresh token may still do.
 *
 * Refresh tokens rotate on every use, and oidc-provider revokes the whole grant when a consumed one
 * is presented again (reuse detection, OAuth 2.1 §4.3.1). Real clients present the same token more
 * than once without any attack: parallel requests that all hit 401 at expiry each refresh (the MCP
 * TypeScript SDK has no single-flight), processes sharing one credentials file refresh at once, a
 * response is lost and the request retried. So for `intervalSeconds` after its first use a refresh
 * token still refreshes, as an unused one would: every racing caller gets a working pair of the same
 * grant (Auth0's "reuse interval", Okta's "grace period"). Presented after that, it is reuse and the
 * grant (one authorization's family, provider/grants.ts) is revoked, with an audit line
 * (grant-audit.ts). Everything else stays
 * oidc-provider's: client authentication, DPoP and client binding, expiry, and the grant check.
 */
export function refreshReuseInterval(
  intervalSeconds: number,
  now: () => number = Date.now,
): (model: string, payload: ModelPayload) => ModelPayload {
  return (model, payload) => {
    if (model !== 'RefreshToken' || typeof payload.consumed !== 'number') return payload;
    // `consumed` is the first use, in seconds: later uses never move it, so retries cannot extend it.
    if (now() / 1000 - payload.consumed >= intervalSeconds) return payload;
    const { consumed: _firstUse, ...unconsumed } = payload;
    return unconsumed;
  };
}
