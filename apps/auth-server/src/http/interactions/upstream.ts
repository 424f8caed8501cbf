import type { Logger } from '@gatehouse/logging';
import type { Federation } from '../../federation/federation.js';
import { classifyUpstreamError, type UpstreamFailure } from '../../federation/upstream-errors.js';
import { renderDenied, renderMessage } from '../../ui/pages.js';
import type { Interaction } from './interaction.js';

/**
 * Signing in through an upstream provider, the two steps that run on the interaction's own URL
 * (its cookie proves the browser is the one that started): leaving for the provider
 * (`GET <interaction>/upstream/<id>`), and acting on what the callback found out
 * (`GET <interaction>/upstream`, federation-callback.ts).
 */

export interface UpstreamStepDependencies {
  readonly federation: Federation;
  readonly logger: Logger;
}

/** What the person reads when a sign-in through `name` did not work. */
export function upstreamFailureMessage(
  name: string,
  failure: UpstreamFailure,
  passwords: boolean,
): string {
  const otherwise = passwords ? ', or sign in with your password' : '';
  switch (failure) {
    case 'unavailable':
      return `${name} cannot be reached right now. Try again in a moment${otherwise}.`;
    case 'refused':
      return `Sign-in with ${name} was cancelled or refused. Try again${otherwise}.`;
    default:
      return `Sign-in with ${name} did not complete. Try again${otherwise}.`;
  }
}

const failureStatus = (failure: UpstreamFailure) =>
  failure === 'unavailable' ? 503 : failure === 'refused' ? 401 : 502;

export async function leaveForUpstream(
  interaction: Interaction,
  upstreamId: string,
  deps: UpstreamStepDependencies & { readonly passwords: boolean },
): Promise<void> {
  const { ctx, uid } = interaction;
  const client = deps.federation.client(upstreamId);
  if (!client) {
    interaction.page(renderMessage('Not found', 'There is no such way to sign in.'), 404);
    return;
  }
  let begun: Awaited<ReturnType<typeof client.begin>>;
  try {
    begun = await client.begin();
  } catch (error) {
    const { failure, detail } = classifyUpstreamError(error);
    deps.logger.warn(
      { requestId: ctx.state.requestId, uid, upstream: upstreamId, failure, detail },
      'upstream sign-in could not start',
    );
    interaction.loginPage(failureStatus(failure), {
      error: upstreamFailureMessage(client.config.name, failure, deps.passwords),
    });
    return;
  }
  await deps.federation.flows.putPending({ ...begun.pending, uid, upstream: upstreamId });
  ctx.status = 303;
  ctx.redirect(begun.url.href);
}

export async function returnFromUpstream(
  interaction: Interaction,
  deps: UpstreamStepDependencies & { readonly passwords: boolean },
): Promise<void> {
  const outcome = await deps.federation.flows.takeOutcome(interaction.uid);
  if (!outcome) {
    interaction.page(
      renderMessage(
        'Sign-in expired',
        'This sign-in did not complete. Start again from your application.',
      ),
      400,
    );
    return;
  }
  if (outcome.kind === 'signed-in') {
    // RFC 8176 `fed`: authenticated by a federated identity provider.
    await interaction.finish({ login: { accountId: outcome.accountId, amr: ['fed'] } }, false);
    return;
  }
  const name = deps.federation.client(outcome.upstream)?.config.name ?? outcome.upstream;
  if (outcome.kind === 'failed') {
    interaction.loginPage(failureStatus(outcome.failure), {
      error: upstreamFailureMessage(name, outcome.failure, deps.passwords),
    });
    return;
  }
  const returnTo = await interaction.conclude({
    error: 'access_denied',
    error_description: 'The account may not sign in to this server',
  });
  interaction.page(
    renderDenied({
      title: 'Access denied',
      reason: outcome.reason,
      clientName: interaction.clientName,
      returnTo,
    }),
    403,
  );
}
