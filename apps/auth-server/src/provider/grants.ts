import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Store } from '../store/store.js';

type GrantInstance = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

/**
 * oidc-provider's `loadExistingGrant`: one grant per authorization, with consent remembered.
 *
 * A grant is the family its refresh tokens belong to: reuse detection and revocation end a whole
 * grant. Identical registrations share one client id (provider/registration.ts), so if sign-ins
 * reused the user's grant for a client, a laptop's and a desktop's copy of the same client would
 * share one family and one installation's replayed token would sign the user out of both. So every
 * authorization gets a grant of its own. Consent is still remembered per user and client, across
 * browser sessions: a new authorization's grant starts as a copy of what the latest one was given,
 * and the user is asked only for what is new.
 */
export function grantPerAuthorization(store: Store) {
  return async function loadExistingGrant(
    ctx: KoaContextWithOIDC,
  ): Promise<GrantInstance | undefined> {
    const { provider, client, session, result, entities, route } = ctx.oidc;
    // Consent given during this authorization created its grant.
    const fromConsent = (result as { consent?: { grantId?: string } } | undefined)?.consent
      ?.grantId;
    if (fromConsent) return provider.Grant.find(fromConsent);
    // Resuming this authorization after an interaction: the grant it already has, if any.
    const started = (entities.Interaction as { grantId?: string } | undefined)?.grantId;
    if (route === 'resume' && started) return provider.Grant.find(started);

    const accountId = session?.accountId;
    if (!client || !accountId) return undefined;
    const latestId = await store.latestGrantId(accountId, client.clientId);
    const latest = latestId ? await provider.Grant.find(latestId) : undefined;
    if (!latest) return undefined;
    // Saved now: oidc-provider names the grant in the authorization code it may issue next.
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    copyConsent(latest, grant);
    await grant.save();
    return grant;
  };
}

/** What the user consented to: OpenID Connect scopes and claims, resource scopes, refusals. */
function copyConsent(from: GrantInstance, to: GrantInstance): void {
  const oidcScope = from.getOIDCScope();
  if (oidcScope) to.addOIDCScope(oidcScope);
  const claims = from.getOIDCClaims();
  if (claims.length > 0) to.addOIDCClaims(claims);
  for (const resource of Object.keys(from.resources ?? {})) {
    const scope = from.getResourceScope(resource);
    if (scope) to.addResourceScope(resource, scope);
  }
  const rejectedScope = from.getRejectedOIDCScope();
  if (rejectedScope) to.rejectOIDCScope(rejectedScope);
  const rejectedClaims = from.getRejectedOIDCClaims();
  if (rejectedClaims.length > 0) to.rejectOIDCClaims(rejectedClaims);
  for (const resource of Object.keys(from.rejected?.resources ?? {})) {
    const scope = from.getRejectedResourceScope(resource);
    if (scope) to.rejectResourceScope(resource, scope);
  }
}
