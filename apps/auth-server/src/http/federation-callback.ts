import type { AuditTrail } from '@gatehouse/audit';
import type { Logger } from '@gatehouse/logging';
import type { Context, Next } from 'koa';
import { federatedAccountId } from '../accounts/federated-accounts.js';
import { admit } from '../federation/admission.js';
import { FEDERATION_CALLBACK_PATH, type Federation } from '../federation/federation.js';
import { identityFrom } from '../federation/identity.js';
import { classifyUpstreamError } from '../federation/upstream-errors.js';
import { renderMessage } from '../ui/pages.js';
import { sendPage } from './interactions/page.js';

/**
 * Where upstream providers send people back (`<issuer>/federation/callback`). The answer is
 * checked against the flow its one-time `state` names (openid-client: PKCE, state, nonce, `iss`,
 * the ID token), the person is admitted or turned away (admission.ts), their account is created
 * or updated, and the browser goes on to its interaction, which alone can end the sign-in: the
 * interaction's cookie, path-scoped to it, is the proof that this is the browser that started.
 * Never a 500: what fails is a page and a log line with the request id.
 */
export function federationCallback(deps: {
  readonly federation: Federation;
  readonly audit: AuditTrail;
  readonly logger: Logger;
  /** The issuer's path prefix ('' at the host root). */
  readonly basePath: string;
  /** The interaction pages' path (`/interaction`). */
  readonly interactionPath: string;
}) {
  const { federation, logger } = deps;
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== FEDERATION_CALLBACK_PATH) return next();
    if (ctx.method !== 'GET') {
      ctx.status = 405;
      ctx.set('allow', 'GET');
      return;
    }
    const requestId = ctx.state.requestId as string | undefined;
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : undefined;
    const flow = state ? await federation.flows.takePending(state) : undefined;
    const client = flow && federation.client(flow.upstream);
    if (!flow || !client) {
      logger.info({ requestId }, 'upstream callback refused: unknown, used or expired state');
      sendPage(
        ctx,
        renderMessage(
          'Sign-in expired',
          'This sign-in has expired or was already completed. Start again from your application.',
        ),
        undefined,
        400,
      );
      return;
    }
    const toInteraction = () => {
      ctx.status = 303;
      ctx.redirect(`${deps.basePath}${deps.interactionPath}/${flow.uid}/upstream`);
    };
    const fields = { requestId, uid: flow.uid, upstream: flow.upstream };
    const audit = (
      outcome: 'success' | 'failure' | 'denied',
      actor: string | undefined,
      reason: string | undefined,
    ) =>
      deps.audit.record({
        type: 'upstream_sign_in',
        outcome,
        actor,
        requestId,
        detail: { upstream: flow.upstream, ...(reason ? { reason } : {}) },
      });

    let claims: Record<string, unknown>;
    try {
      claims = await client.complete(ctx.querystring, flow);
    } catch (error) {
      const { failure, detail } = classifyUpstreamError(error);
      logger[failure === 'invalid' ? 'warn' : 'info'](
        { ...fields, failure, detail },
        'upstream sign-in failed',
      );
      audit('failure', undefined, `${failure}: ${detail}`);
      await federation.flows.putOutcome(flow.uid, {
        kind: 'failed',
        upstream: flow.upstream,
        failure,
      });
      toInteraction();
      return;
    }
    const identity = identityFrom(claims, client.config);
    if (!identity) {
      logger.warn(
        { ...fields, claim: client.config.subject_claim },
        'upstream sign-in failed: the subject claim is missing',
      );
      audit('failure', undefined, 'the subject claim is missing');
      await federation.flows.putOutcome(flow.uid, {
        kind: 'failed',
        upstream: flow.upstream,
        failure: 'invalid',
      });
      toInteraction();
      return;
    }
    const admission = admit(identity, client.config);
    if (!admission.admitted) {
      logger.info({ ...fields, reason: admission.reason }, 'upstream sign-in turned away');
      audit('denied', federatedAccountId(flow.upstream, identity.subject), admission.reason);
      await federation.flows.putOutcome(flow.uid, {
        kind: 'denied',
        upstream: flow.upstream,
        reason: admission.reason,
      });
      toInteraction();
      return;
    }
    const account = await federation.accounts.signedIn(flow.upstream, identity);
    logger.info({ ...fields, accountId: account.accountId }, 'upstream sign-in succeeded');
    audit('success', account.accountId, undefined);
    await federation.flows.putOutcome(flow.uid, {
      kind: 'signed-in',
      accountId: account.accountId,
    });
    toInteraction();
  };
}
