import { consentAlreadyGiven } from '../../provider/offline-access.js';
import type { ResourceRegistry } from '../../provider/resources.js';
import { type ConsentPage, renderConsent } from '../../ui/pages.js';
import type { Interaction } from './interaction.js';

/**
 * GET of an interaction: the sign-in form when oidc-provider asks for a login; otherwise consent,
 * ended at once when everything asked for was consented to before (offline-access.ts), else the
 * consent page listing what the client gets.
 */
export async function showInteraction(
  interaction: Interaction,
  resources: ResourceRegistry,
): Promise<void> {
  const { details } = interaction;
  if (details.prompt.name === 'login') {
    interaction.loginPage(200);
    return;
  }
  if (consentAlreadyGiven(details)) {
    await interaction.finish({ consent: {} }, true);
    return;
  }
  interaction.page(renderConsent(consentView(interaction, resources)));
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
