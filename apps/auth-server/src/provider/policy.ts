import { interactionPolicy } from 'oidc-provider';

/**
 * The interaction policy: oidc-provider's default (login, then consent for what is not yet granted)
 * without its `native_client_prompt` check, which asks native clients for consent on every
 * authorization. Consent here is remembered per client and scope, for native clients too.
 */
export function createInteractionPolicy() {
  const policy = interactionPolicy.base();
  const consent = policy.get('consent');
  consent?.checks.remove('native_client_prompt');
  return policy;
}
