import { AUDIT_EVENT_TYPES, type AuditTrail } from '@gatehouse/audit';
import type { Logger } from '@gatehouse/logging';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { originOf } from '../account/connected-apps.js';
import type { Accounts } from '../accounts/accounts.js';
import { createOperations, OperationError, type Operations } from '../admin/operations.js';
import { auditFilterFrom } from '../audit/audit-query.js';
import { redirectHosts } from '../audit/provider-audit.js';
import { ACCOUNT_CLIENT_ID } from '../provider/account-client.js';
import type { ProviderHolder } from '../provider/provider-holder.js';
import type { Store } from '../store/store.js';
import {
  ADMIN_SECTIONS,
  type AdminFrame,
  type AdminSection,
  renderAdminAudit,
  renderAdminClients,
  renderAdminGrants,
  renderAdminKeys,
  renderAdminUsers,
} from '../ui/admin-pages.js';
import { renderMessage } from '../ui/pages.js';
import { clientFactsFrom } from './account.js';
import { sendPage } from './interactions/page.js';
import type { SignedIn, SignedInSessions } from './signed-in.js';

export interface AdminConsoleDependencies {
  readonly providers: ProviderHolder;
  readonly sessions: SignedInSessions;
  readonly store: Store;
  readonly accounts: Accounts;
  readonly audit: AuditTrail;
  /** AUTH_ADMINS: the accounts that may use the console. */
  readonly admins: ReadonlySet<string>;
  readonly configuredClientIds: ReadonlySet<string>;
  readonly logger: Logger;
  readonly basePath: string;
  readonly endSessionPath: string;
  /** Rotates the signing keys and starts signing with the new ones at once. */
  readonly rotateKeys: () => Promise<string[]>;
}

const ADMIN_PATH = '/admin';
const CSRF_PURPOSE = 'admin';
const AUDIT_VIEW_LIMIT = 200;
const USAGE_WINDOW_MS = 86_400_000;

type Notice = AdminFrame['notice'];

/** The form posts: each an operation (admin/operations.ts), then the section it belongs to. */
const ACTIONS: Readonly<
  Record<
    string,
    {
      readonly section: AdminSection;
      run(operations: Operations, form: Readonly<Record<string, string>>): Promise<string>;
    }
  >
> = {
  'clients/delete': {
    section: 'clients',
    run: async (operations, form) =>
      (await operations.deleteClient(form.client_id ?? ''))
        ? `Client ${form.client_id} deleted, with its grants.`
        : `No stored client ${form.client_id}.`,
  },
  'users/add': {
    section: 'users',
    run: async (operations, form) => {
      await operations.addUser(form.username ?? '', form.password ?? '');
      return `User ${form.username} added.`;
    },
  },
  'users/reset': {
    section: 'users',
    run: async (operations, form) =>
      (await operations.resetPassword(form.username ?? '', form.password ?? ''))
        ? `New password set for ${form.username}.`
        : `No user ${form.username}.`,
  },
  'users/remove': {
    section: 'users',
    run: async (operations, form) =>
      (await operations.removeUser(form.username ?? ''))
        ? `User ${form.username} removed, with their grants.`
        : `No user ${form.username}.`,
  },
  'accounts/remove': {
    section: 'users',
    run: async (operations, form) =>
      (await operations.removeAccount(form.account_id ?? ''))
        ? `Account ${form.account_id} removed, with its grants.`
        : `No account ${form.account_id}.`,
  },
  'grants/revoke': {
    section: 'grants',
    run: async (operations, form) =>
      (await operations.revokeGrant(form.grant_id ?? ''))
        ? `Grant ${form.grant_id} revoked with its tokens.`
        : `No grant ${form.grant_id}.`,
  },
  'keys/rotate': {
    section: 'keys',
    run: async (operations) =>
      `New signing keys: ${(await operations.rotateKeys()).join(', ')}. Tokens are signed with them from now on.`,
  },
};

/**
 * `/admin`, the operators' console, for the accounts AUTH_ADMINS names: clients (with how they
 * registered and last use; delete), users (add, remove, reset a password; remove accounts from
 * identity providers), grants (revoke), signing keys (rotate) and the audit trail with filters.
 * Server-rendered like the sign-in pages (no script, strict CSP). Every change is a form post with
 * a CSRF token bound to the session, goes through the same operations as the CLI, and is itself on
 * the audit trail with the admin as actor. Anyone else signed in gets 403.
 */
export function adminConsole(deps: AdminConsoleDependencies) {
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '8kb' });
  const base = `${deps.basePath}${ADMIN_PATH}`;
  const clientFacts = clientFactsFrom(deps.providers);
  const route = new RegExp(`^${ADMIN_PATH}(?:/([a-z]+(?:/[a-z]+)?))?$`);

  const frameFor = (who: SignedIn, notice?: Notice): AdminFrame => ({
    username: who.username,
    base,
    csrf: deps.sessions.csrfToken(who, CSRF_PURPOSE),
    signOutHref: `${deps.basePath}${deps.endSessionPath}?client_id=${ACCOUNT_CLIENT_ID}`,
    notice,
  });

  const render = async (
    ctx: Context,
    section: AdminSection,
    frame: AdminFrame,
    status = 200,
  ): Promise<void> => {
    const html = await (async () => {
      switch (section) {
        case 'clients':
          return renderAdminClients(frame, await listClients());
        case 'users':
          return renderAdminUsers(frame, {
            local: (await deps.store.listUsers()).map((username) => ({
              username,
              admin: deps.admins.has(username),
            })),
            federated: await deps.accounts.federated.list(),
            usage: await usageByAccount(),
          });
        case 'grants':
          return renderAdminGrants(frame, await listGrants());
        case 'keys':
          return renderAdminKeys(frame, await deps.store.listKeys());
        case 'audit':
          return renderAdminAudit(frame, await auditView(ctx));
      }
    })();
    sendPage(ctx, html, undefined, status);
  };

  const listClients = async () => {
    const [stored, grants, lastUsed] = await Promise.all([
      deps.store.models.list('Client'),
      deps.store.models.list('Grant'),
      deps.store.clientLastUsed(),
    ]);
    const grantCount = new Map<string, number>();
    for (const { payload } of grants) {
      const clientId = String(payload.clientId ?? '');
      grantCount.set(clientId, (grantCount.get(clientId) ?? 0) + 1);
    }
    const ids = [...new Set([...deps.configuredClientIds, ...stored.map(({ id }) => id)])];
    const clients = await Promise.all(
      ids.map(async (clientId) => {
        const facts = await clientFacts(clientId);
        return {
          clientId,
          name: facts?.name || clientId,
          origin: originOf(clientId, deps.configuredClientIds),
          redirectHosts: redirectHosts(facts?.redirectUris),
          grants: grantCount.get(clientId) ?? 0,
          lastUsedAt: lastUsed.get(clientId),
          deletable: !deps.configuredClientIds.has(clientId),
        };
      }),
    );
    return clients.sort((a, b) => (b.lastUsedAt ?? 0) - (a.lastUsedAt ?? 0));
  };

  // Tool calls and rate-limit refusals per account over the last day (MCP servers that write to
  // the trail: MCP_AUDIT_STORE).
  const usageByAccount = async () => {
    const events = await deps.audit.query({
      types: ['tool_call', 'rate_limited'],
      since: Date.now() - USAGE_WINDOW_MS,
      limit: 100_000,
    });
    const usage = new Map<string, { toolCalls: number; rateLimited: number }>();
    for (const event of events) {
      if (!event.actor) continue;
      const entry = usage.get(event.actor) ?? { toolCalls: 0, rateLimited: 0 };
      if (event.type === 'tool_call') entry.toolCalls += 1;
      else entry.rateLimited += 1;
      usage.set(event.actor, entry);
    }
    return usage;
  };

  const listGrants = async () => {
    const grants = (await deps.store.models.list('Grant')).filter(
      ({ payload }) => payload.clientId !== ACCOUNT_CLIENT_ID,
    );
    const activity = await deps.audit.activity(grants.map(({ id }) => id));
    const names = new Map<string, string>();
    for (const clientId of new Set(grants.map(({ payload }) => String(payload.clientId ?? '')))) {
      names.set(clientId, (await clientFacts(clientId))?.name || clientId);
    }
    return grants
      .map(({ id, payload }) => {
        const seen = activity.get(id);
        const clientId = String(payload.clientId ?? '');
        return {
          id,
          accountId: String(payload.accountId ?? ''),
          clientId,
          clientName: names.get(clientId) ?? clientId,
          issuedAt: seen?.issuedAt,
          refreshedAt: seen?.refreshedAt,
          usedAt: seen?.usedAt,
        };
      })
      .sort(
        (a, b) =>
          Math.max(b.issuedAt ?? 0, b.refreshedAt ?? 0, b.usedAt ?? 0) -
          Math.max(a.issuedAt ?? 0, a.refreshedAt ?? 0, a.usedAt ?? 0),
      );
  };

  const auditView = async (ctx: Context) => {
    const text = (name: string) => (typeof ctx.query[name] === 'string' ? ctx.query[name] : '');
    const filter = {
      user: text('user'),
      client: text('client'),
      type: text('type'),
      since: text('since'),
    };
    const types = [...AUDIT_EVENT_TYPES];
    try {
      const events = await deps.audit.query(
        auditFilterFrom({
          ...(filter.user ? { user: filter.user } : {}),
          ...(filter.client ? { client: filter.client } : {}),
          ...(filter.type ? { type: filter.type } : {}),
          ...(filter.since ? { since: filter.since } : {}),
          limit: String(AUDIT_VIEW_LIMIT),
        }),
      );
      return { filter, types, events };
    } catch (error) {
      if (error instanceof Error && /^--/.test(error.message)) {
        // cli audit's wording ("--since must be ..."), for the form's fields.
        return { filter, types, events: [], error: error.message.replace(/^--(\w+)/, '$1') };
      }
      throw error;
    }
  };

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = route.exec(ctx.path);
    if (!match) return next();
    const action = match[1] ?? '';
    const who = await deps.sessions.signedIn(ctx);
    if (!who) {
      if (ctx.method === 'GET') return deps.sessions.startSignIn(ctx, '/admin');
      return sendPage(
        ctx,
        renderMessage('Signed out', 'Open the admin console again.'),
        undefined,
        401,
      );
    }
    if (!deps.admins.has(who.accountId)) {
      deps.logger.info(
        { requestId: ctx.state.requestId, accountId: who.accountId },
        'admin console refused: not an administrator (AUTH_ADMINS)',
      );
      const refusal = renderMessage(
        'Not an administrator',
        `${who.username} may not use the admin console. Ask an administrator to add you to AUTH_ADMINS.`,
      );
      return sendPage(ctx, refusal, undefined, 403);
    }
    if (ctx.method === 'GET') {
      const section = (action || 'clients') as AdminSection;
      if (!ADMIN_SECTIONS.includes(section)) return next();
      return render(ctx, section, frameFor(who));
    }
    const handler = ACTIONS[action];
    if (ctx.method !== 'POST' || !handler) return next();
    await parseForm(ctx, async () => {});
    const raw = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    if (!deps.sessions.csrfValid(who, CSRF_PURPOSE, raw.csrf)) {
      deps.logger.info(
        { requestId: ctx.state.requestId, reason: 'csrf' },
        'admin console form refused: missing or wrong CSRF token',
      );
      return sendPage(
        ctx,
        renderMessage('Request refused', 'Reload the admin console and try again.'),
        undefined,
        403,
      );
    }
    const form = Object.fromEntries(
      Object.entries(raw).flatMap(([key, value]) =>
        typeof value === 'string' ? [[key, value]] : [],
      ),
    );
    const operations = createOperations({
      store: deps.store,
      accounts: deps.accounts,
      audit: deps.audit,
      actor: who.accountId,
      requestId: ctx.state.requestId as string | undefined,
      rotateKeys: deps.rotateKeys,
    });
    try {
      const text = await handler.run(operations, form);
      return render(ctx, handler.section, frameFor(who, { text }));
    } catch (error) {
      if (!(error instanceof OperationError)) throw error;
      return render(ctx, handler.section, frameFor(who, { text: error.message, error: true }), 400);
    }
  };
}
