import type { AuditTrail } from '@gatehouse/audit';
import type { Federation } from '../../federation/federation.js';
import { ACCOUNT_CLIENT_ID } from '../../provider/account-client.js';
import { consentAlreadyGiven } from '../../provider/offline-access.js';
import { SCOPE_NOT_ALLOWED } from '../../provider/policy.js';
import type { ProviderHolder } from '../../provider/provider-holder.js';
import type { ResourceRegistry } from '../../provider/resources.js';
import type { Store } from '../../store/store.js';
import { type ConsentPage, renderConsent, renderDenied } from '../../ui/pages.js';
import type { Interaction } from './interaction.js';

/**
 * GET of an interaction: the sign-in form when oidc-provider asks for a login; otherwise consent,
 * ended at once when everything asked for was consented to before (offline-access.ts), else the
 * consent page listing what the client gets.
 *
 * A request for scopes the account may not have (policy.ts) ends in a denial when it is a step-up
 * or a re-authorization (the client already holds a grant of this account) or when nothing it asks
 * for is allowed: a client that gets a token without the scope would only ask again. A first
 * authorization that asks for more than the account may have is consented to without the extra
 * scopes, and the page says which (RFC 6749 §3.3: the token's `scope` tells the client).
 */
export async function showInteraction(
  interaction: Interaction,
  deps: {
    readonly resources: ResourceRegistry;
    readonly federation: Federation;
    readonly store: Pick<Store, 'latestGrantId'>;
    readonly audit: AuditTrail;
    readonly providers: ProviderHolder;
  },
): Promise<void> {
  const { details } = interaction;
  if (details.prompt.name === 'login') {
    interaction.loginPage(200);
    return;
  }
  const notAllowed = details.prompt.reasons.includes(SCOPE_NOT_ALLOWED)
    ? ((details.prompt.details as { scopesNotAllowed?: Record<string, string[]> })
        .scopesNotAllowed ?? {})
    : {};
  const refused = [...new Set(Object.values(notAllowed).flat())];
  if (refused.length > 0 && (await mustDeny(interaction, notAllowed, deps))) {
    deps.audit.record({
      type: 'consent',
      outcome: 'denied',
      actor: details.session?.accountId,
      client: interaction.params.client_id,
      resource: interaction.params.resource,
      requestId: interaction.ctx.state.requestId as string | undefined,
      detail: { reason: 'scope not allowed for the account', scope: refused.join(' ') },
    });
    const returnTo = await interaction.conclude({
      error: 'access_denied',
      error_description: 'The account may not have a requested scope',
    });
    interaction.page(
      renderDenied({
        title: 'Not allowed',
        reason: `${interaction.clientName} asked for ${refused.join(', ')}, which your account may not have.`,
        clientName: interaction.clientName,
        returnTo,
      }),
      403,
    );
    return;
  }
  if (consentAlreadyGiven(details)) {
    await interaction.finish({ consent: {} }, true);
    return;
  }
  // The account page's own sign-in (provider/account-client.ts): nothing to consent to.
  if (interaction.params.client_id === ACCOUNT_CLIENT_ID) {
    await grantAccountPage(interaction, deps.providers);
    return;
  }
  interaction.page(
    renderConsent({ ...consentView(interaction, deps.resources), notAllowed: refused }),
  );
}

async function mustDeny(
  interaction: Interaction,
  notAllowed: Readonly<Record<string, readonly string[]>>,
  deps: {
    readonly resources: ResourceRegistry;
    readonly federation: Federation;
    readonly store: Pick<Store, 'latestGrantId'>;
  },
): Promise<boolean> {
  const accountId = interaction.details.session?.accountId ?? '';
  const clientId = interaction.params.client_id ?? '';
  if ((await deps.store.latestGrantId(accountId, clientId)) !== undefined) return true;
  const requested = (interaction.params.scope ?? '').split(' ');
  for (const indicator of Object.keys(notAllowed)) {
    const resource = deps.resources.get(indicator);
    const allowed = resource ? await deps.federation.allowedScopes(accountId, resource) : [];
    if (requested.some((scope) => allowed?.includes(scope))) return false;
  }
  return true;
}

function consentView(interaction: Interaction, resources: ResourceRegistry): ConsentPage {
  const { details, params, redirectUri } = interaction;
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const resourceScopes = Object.entries(missing.missingResourceScopes ?? {});
  const resource = resourceScopes[0]?.[0] ?? String(params.resource ?? resources.defaultResource);
  const newScopes = [
    ...new Set([...(missing.missingOIDCScope ?? []), ...resourceScopes.flatMap(([, s]) => s)]),
  ];
  // Consent asked for again (the client sent prompt=consent) with nothing new: list what it gets.
  const requested = String(params.scope ?? '')
    .split(' ')
    .filter((scope) => scope && scope !== 'openid');
  const scopes = newScopes.length > 0 ? newScopes : requested;
  const target = redirectUri ? URL.parse(redirectUri) : null;
  return {
    action: interaction.pageUrl('consent'),
    csrf: interaction.csrfToken(),
    clientName: interaction.clientName,
    redirectHost: target
      ? target.protocol.startsWith('http')
        ? target.host
        : `${target.protocol}//${target.host}`
      : 'the application',
    resource,
    scopes: scopes.map((scope) => ({ scope, description: resources.describe(scope) })),
    username: details.session?.accountId ?? '',
  };
}

/** The account page's sign-in: `openid`, no resource, nothing to ask (the person asked for it). */
async function grantAccountPage(
  interaction: Interaction,
  providers: ProviderHolder,
): Promise<void> {
  const { details } = interaction;
  const accountId = details.session?.accountId ?? '';
  const provider = providers.current;
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId: ACCOUNT_CLIENT_ID });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  await interaction.finish({ consent: existing ? {} : { grantId } }, true);
}
