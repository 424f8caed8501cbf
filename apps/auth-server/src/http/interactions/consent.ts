import type { AuditTrail } from '@gatehouse/audit';
import type Provider from 'oidc-provider';
import { renderMessage } from '../../ui/pages.js';
import type { Interaction } from './interaction.js';

/**
 * POST of the consent form: a denial ends the interaction with access_denied; an approval adds
 * what oidc-provider reported missing (OIDC scopes and claims, scopes per resource) to the grant,
 * a new one or the one the session already has, and ends it with that grant.
 */
export async function submitConsent(
  interaction: Interaction,
  form: Readonly<Record<string, unknown>>,
  provider: Provider,
  audit: AuditTrail,
): Promise<void> {
  const record = (outcome: 'success' | 'denied', scopes: string) =>
    audit.record({
      type: 'consent',
      outcome,
      actor: interaction.details.session?.accountId,
      client: interaction.params.client_id,
      resource: interaction.params.resource,
      requestId: interaction.ctx.state.requestId as string | undefined,
      detail: { scope: scopes },
    });
  if (form.decision !== 'allow') {
    record('denied', interaction.params.scope ?? '');
    await interaction.finish(
      { error: 'access_denied', error_description: 'The user denied the request' },
      false,
    );
    return;
  }
  const { details, params } = interaction;
  // No signed-in account, or its grant is gone: the same answer either way.
  const accountId = details.session?.accountId;
  const grant = !accountId
    ? undefined
    : details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id ?? '' });
  if (!accountId || !grant) {
    interaction.page(renderMessage('Session expired', 'Sign in again from your application.'), 400);
    return;
  }
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  record(
    'success',
    [
      ...(missing.missingOIDCScope ?? []),
      ...Object.values(missing.missingResourceScopes ?? {}).flat(),
    ].join(' '),
  );
  await interaction.finish({ consent: details.grantId ? {} : { grantId } }, true);
}
