import type { AuditTrail } from '@gatehouse/audit';
import type { Logger } from '@gatehouse/logging';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { type ClientFacts, connectedApps, revokeConnectedApp } from '../account/connected-apps.js';
import { ACCOUNT_CLIENT_ID, ACCOUNT_PATH } from '../provider/account-client.js';
import type { ProviderHolder } from '../provider/provider-holder.js';
import type { Store } from '../store/store.js';
import { renderAccount } from '../ui/account-page.js';
import { renderMessage } from '../ui/pages.js';
import { sendPage } from './interactions/page.js';
import type { SignedIn, SignedInSessions } from './signed-in.js';

export interface AccountPageDependencies {
  readonly providers: ProviderHolder;
  readonly sessions: SignedInSessions;
  readonly store: Pick<Store, 'grantsOf' | 'models'>;
  readonly audit: AuditTrail;
  readonly configuredClientIds: ReadonlySet<string>;
  readonly logger: Logger;
  /** The issuer's path prefix ('' at the host root), for links and form actions. */
  readonly basePath: string;
  readonly endSessionPath: string;
}

const REVOKE_PATH = `${ACCOUNT_PATH}/revoke`;
const CSRF_PURPOSE = 'account';

/** The provider's view of a client, for the pages: its name and redirect URIs. */
export function clientFactsFrom(providers: ProviderHolder) {
  return async (clientId: string): Promise<ClientFacts | undefined> => {
    const client = await providers.current.Client.find(clientId).catch(() => undefined);
    return client && { name: client.clientName, redirectUris: client.redirectUris ?? [] };
  };
}

/**
 * `/account`, the connected-apps page: a person sees every client they granted access to and
 * revokes any of them (signed-in.ts: who they are; a form post with a CSRF token bound to the
 * session, on top of the session cookie's SameSite=Lax).
 */
export function accountPages(deps: AccountPageDependencies) {
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '4kb' });
  const url = (path: string) => `${deps.basePath}${path}`;
  const clientFacts = clientFactsFrom(deps.providers);

  const showPage = async (ctx: Context, who: SignedIn, notice?: string, status = 200) => {
    const apps = await connectedApps(who.accountId, {
      store: deps.store,
      audit: deps.audit,
      configuredClientIds: deps.configuredClientIds,
      clientFacts,
    });
    const html = renderAccount({
      username: who.username,
      apps,
      revokeAction: url(REVOKE_PATH),
      csrf: deps.sessions.csrfToken(who, CSRF_PURPOSE),
      signOutHref: `${url(deps.endSessionPath)}?client_id=${ACCOUNT_CLIENT_ID}`,
      notice,
    });
    sendPage(ctx, html, undefined, status);
  };

  const refuse = (ctx: Context, status: number, title: string, message: string) =>
    sendPage(ctx, renderMessage(title, message), undefined, status);

  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path === ACCOUNT_PATH && ctx.method === 'GET') {
      const who = await deps.sessions.signedIn(ctx);
      if (!who) return deps.sessions.startSignIn(ctx, '/account');
      return showPage(ctx, who);
    }
    if (ctx.path === REVOKE_PATH && ctx.method === 'POST') {
      const who = await deps.sessions.signedIn(ctx);
      if (!who) return refuse(ctx, 401, 'Signed out', 'Open your account page again to sign in.');
      await parseForm(ctx, async () => {});
      const form = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
      if (!deps.sessions.csrfValid(who, CSRF_PURPOSE, form.csrf)) {
        deps.logger.info(
          { requestId: ctx.state.requestId, reason: 'csrf' },
          'account page form refused: missing or wrong CSRF token',
        );
        return refuse(ctx, 403, 'Request refused', 'Reload your account page and try again.');
      }
      const clientId = typeof form.client_id === 'string' ? form.client_id : '';
      const revoked = await revokeConnectedApp(who.accountId, clientId, {
        store: deps.store,
        audit: deps.audit,
        actor: who.accountId,
        requestId: ctx.state.requestId as string | undefined,
        via: 'account page',
      });
      const name = (await clientFacts(clientId))?.name ?? clientId;
      return showPage(
        ctx,
        who,
        revoked > 0
          ? `${name} no longer has access to your account.`
          : `${name} had no access to revoke.`,
        revoked > 0 ? 200 : 404,
      );
    }
    return next();
  };
}
