import type { AuditTrail } from '@gatehouse/audit';
import type { Logger } from '@gatehouse/logging';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import type { Accounts } from '../../accounts/accounts.js';
import type { Federation } from '../../federation/federation.js';
import type { ProviderHolder } from '../../provider/provider-holder.js';
import type { ResourceRegistry } from '../../provider/resources.js';
import type { Store } from '../../store/store.js';
import { StoreUnavailableError } from '../../store/store-unavailable.js';
import { renderMessage } from '../../ui/pages.js';
import type { LoginThrottle } from '../login-throttle.js';
import { submitConsent } from './consent.js';
import { interactionCsrf } from './csrf.js';
import { createInteraction, type InteractionDetails } from './interaction.js';
import { submitLogin } from './login.js';
import { sendPage } from './page.js';
import { showInteraction } from './show.js';
import { leaveForUpstream, returnFromUpstream } from './upstream.js';

/**
 * The login and consent pages (oidc-provider interactions): `GET <path>/<uid>` shows the step
 * oidc-provider asks for (show.ts), `POST <path>/<uid>/login` and `/consent` take the forms
 * (login.ts, consent.ts), each CSRF-checked (csrf.ts); `GET <path>/<uid>/upstream/<id>` leaves
 * for an upstream provider and `GET <path>/<uid>/upstream` comes back from it (upstream.ts).
 */

export interface InteractionDependencies {
  /** The current oidc-provider (swapped when signing keys change). */
  readonly providers: ProviderHolder;
  readonly accounts: Accounts;
  readonly resources: ResourceRegistry;
  readonly throttle: LoginThrottle;
  /** Sign-in through upstream identity providers (none configured: the password form only). */
  readonly federation: Federation;
  /** Sign-ins and consents go on the audit trail. */
  readonly audit: AuditTrail;
  /** Whether a client already holds a grant of an account (a step-up, for show.ts). */
  readonly store: Pick<Store, 'latestGrantId'>;
  readonly csrfSecret: string;
  readonly logger: Logger;
  /** The issuer's path prefix ('' at the host root), for form actions. */
  readonly basePath: string;
  /** Where the pages live below the issuer (`/interaction`), from the route table. */
  readonly path: string;
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function interactions(deps: InteractionDependencies) {
  const { providers, logger } = deps;
  const route = new RegExp(
    `^${escapeRegExp(deps.path)}/([\\w-]{10,64})(?:/(login|consent)|/(upstream)(?:/([a-z0-9-]{1,32}))?)?$`,
  );
  const upstreams = deps.federation.upstreams.map(({ id, name }) => ({ id, name }));
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const csrf = interactionCsrf(deps.csrfSecret);

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = route.exec(ctx.path);
    if (!match) return next();
    const [, uid = '', formStep, upstreamStep, upstreamId] = match;
    const step = formStep ?? upstreamStep;
    const provider = providers.current;
    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (error) {
      // A store failure is not an expired sign-in: it becomes the retryable 503
      // (store-unavailable.ts).
      if (error instanceof StoreUnavailableError) throw error;
      const message = renderMessage(
        'Session expired',
        'This sign-in request has expired or was already used. Start again from your application.',
      );
      sendPage(ctx, message, undefined, 400);
      return;
    }
    if (details.uid !== uid) {
      sendPage(
        ctx,
        renderMessage('Session mismatch', 'Start again from your application.'),
        undefined,
        400,
      );
      return;
    }
    const clientId = (details.params as Record<string, string | undefined>).client_id;
    const client = await provider.Client.find(clientId ?? '');
    // Without local users the sign-in page offers only the upstreams (with none, the form stays).
    // Only the login prompt shows that page: no store read for consent pages.
    const passwords =
      upstreams.length === 0 ||
      details.prompt.name !== 'login' ||
      (await deps.accounts.hasLocalUsers());
    const interaction = createInteraction({
      ctx,
      uid,
      details,
      provider,
      csrf,
      clientName: client?.clientName ?? clientId ?? 'an application',
      upstreams,
      passwords,
      actionPrefix: `${deps.basePath}${deps.path}`,
    });

    const upstreamDeps = { federation: deps.federation, logger, passwords };
    if (ctx.method === 'GET' && !step) {
      // The only way in is one upstream: straight there, no page with one button.
      if (details.prompt.name === 'login' && !passwords && upstreams.length === 1)
        return leaveForUpstream(interaction, upstreams[0]?.id ?? '', upstreamDeps);
      return showInteraction(interaction, deps);
    }
    if (ctx.method === 'GET' && upstreamStep) {
      return upstreamId
        ? leaveForUpstream(interaction, upstreamId, upstreamDeps)
        : returnFromUpstream(interaction, upstreamDeps);
    }
    if (ctx.method !== 'POST' || !formStep) {
      ctx.status = 405;
      return;
    }
    await parseForm(ctx, async () => undefined);
    const form = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    if (!csrf.valid(uid, form.csrf)) {
      logger.warn({ uid, step }, 'interaction form refused: missing or wrong CSRF token');
      interaction.page(
        renderMessage('Request refused', 'The form could not be verified. Go back and try again.'),
        403,
      );
      return;
    }
    if (step === 'login') return submitLogin(interaction, form, deps);
    return submitConsent(interaction, form, provider, deps.audit);
  };
}
