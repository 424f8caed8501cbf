import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * The interaction policy: oidc-provider's default (login, then consent for what is not yet granted)
 * without its `native_client_prompt` check, which asks native clients for consent on every
 * authorization. Consent here is remembered per client and scope, for native clients too.
 *
 * With `scopesNotAllowed` (federated accounts, whose scopes an upstream group mapping decides), a
 * request that asks for a scope the signed-in account may not have always gets the consent page
 * (`SCOPE_NOT_ALLOWED`), even when everything it may have was granted before: without it the
 * request would end unseen with a token that lacks the scope, and a client stepping up would ask
 * again and again. The page turns it down or says what the client will not get (show.ts). Once
 * consent was given in this interaction, the check is done.
 */

export const SCOPE_NOT_ALLOWED = 'gatehouse_scope_not_allowed';

/** Per resource indicator, the requested scopes `accountId` may not have there. */
export type ScopesNotAllowed = (
  accountId: string,
  resources: readonly string[],
  requested: readonly string[],
) => Promise<Record<string, string[]>>;

const found = Symbol('scopesNotAllowed');
type WithFound = KoaContextWithOIDC['oidc'] & { [found]?: Record<string, string[]> };

export function createInteractionPolicy(scopesNotAllowed?: ScopesNotAllowed) {
  const policy = interactionPolicy.base();
  const consent = policy.get('consent');
  consent?.checks.remove('native_client_prompt');
  if (consent && scopesNotAllowed) {
    consent.checks.push(
      new interactionPolicy.Check(
        SCOPE_NOT_ALLOWED,
        'a requested scope is not allowed for the account',
        'consent_required',
        async (ctx: KoaContextWithOIDC) => {
          const oidc = ctx.oidc as WithFound;
          const accountId = oidc.session?.accountId;
          if (!accountId || (oidc.result as { consent?: unknown } | undefined)?.consent)
            return interactionPolicy.Check.NO_NEED_TO_PROMPT;
          const notAllowed = await scopesNotAllowed(
            accountId,
            Object.keys(oidc.resourceServers ?? {}),
            [...oidc.requestParamScopes],
          );
          if (Object.keys(notAllowed).length === 0)
            return interactionPolicy.Check.NO_NEED_TO_PROMPT;
          oidc[found] = notAllowed;
          return interactionPolicy.Check.REQUEST_PROMPT;
        },
        (ctx: KoaContextWithOIDC) => ({ scopesNotAllowed: (ctx.oidc as WithFound)[found] }),
      ),
    );
  }
  return policy;
}
