import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { renderLogin } from '../../ui/pages.js';
import type { InteractionCsrf } from './csrf.js';
import { sendPage } from './page.js';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;
export type InteractionResult = Parameters<Provider['interactionResult']>[2];
/** A page below the interaction: the two forms, and the upstream sign-in (`upstream/<id>` to leave). */
export type InteractionStep = 'login' | 'consent' | 'upstream' | `upstream/${string}`;

/** One request to an interaction's pages, once its details are loaded: what every step needs. */
export interface Interaction {
  readonly ctx: Context;
  readonly uid: string;
  readonly details: InteractionDetails;
  readonly params: Readonly<Record<string, string | undefined>>;
  /** The client's name for the pages (its client_id, or "an application", when it has none). */
  readonly clientName: string;
  readonly redirectUri: string | undefined;
  /** The form action of `step`. */
  pageUrl(step: InteractionStep): string;
  csrfToken(): string;
  /** Sends a page (see page.ts) with the client's redirect URI as a form target. */
  page(html: string, status?: number): void;
  /** The sign-in form, again with `username` and an `error` when a submission failed. */
  loginPage(status: number, extra?: { username?: string; error?: string }): void;
  /** Ends the interaction with `result` and sends the browser on (303: the form's POST is done). */
  finish(result: InteractionResult, mergeWithLastSubmission: boolean): Promise<void>;
  /** Ends the interaction with `result`; returns where the browser goes on (for a link). */
  conclude(result: InteractionResult): Promise<string>;
}

/** A way to sign in other than the password form: "Continue with <name>". */
export interface SignInOption {
  readonly id: string;
  readonly name: string;
}

export function createInteraction(options: {
  ctx: Context;
  uid: string;
  details: InteractionDetails;
  provider: Provider;
  csrf: InteractionCsrf;
  clientName: string;
  /** The upstream providers the sign-in page offers. */
  upstreams: readonly SignInOption[];
  /** Whether the sign-in page has the password form (there are local users). */
  passwords: boolean;
  /** The form action prefix: the issuer's path and the pages' path (`/interaction`). */
  actionPrefix: string;
}): Interaction {
  const { ctx, uid, details, provider, csrf, clientName, actionPrefix } = options;
  const params = details.params as Record<string, string | undefined>;
  const redirectUri = params.redirect_uri;
  const interaction: Interaction = {
    ctx,
    uid,
    details,
    params,
    clientName,
    redirectUri,
    pageUrl: (step) => `${actionPrefix}/${uid}/${step}`,
    csrfToken: () => csrf.tokenFor(uid),
    page: (html, status = 200) => sendPage(ctx, html, redirectUri, status),
    loginPage(status, extra = {}) {
      interaction.page(
        renderLogin({
          action: interaction.pageUrl('login'),
          csrf: interaction.csrfToken(),
          clientName: interaction.clientName,
          passwords: options.passwords,
          upstreams: options.upstreams.map((upstream) => ({
            name: upstream.name,
            href: interaction.pageUrl(`upstream/${upstream.id}`),
          })),
          ...extra,
        }),
        status,
      );
    },
    async finish(result, mergeWithLastSubmission) {
      const location = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission,
      });
      ctx.status = 303;
      ctx.redirect(location);
    },
    conclude(result) {
      return provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: false,
      });
    },
  };
  return interaction;
}
