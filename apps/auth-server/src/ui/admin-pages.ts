import type { AuditEvent } from '@gatehouse/audit';
import { escapeHtml, layout } from './pages.js';

/** The console's sections, in the order of its navigation. */
export const ADMIN_SECTIONS = ['clients', 'users', 'grants', 'keys', 'audit'] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

const TITLES: Readonly<Record<AdminSection, string>> = {
  clients: 'Clients',
  users: 'Users',
  grants: 'Grants',
  keys: 'Signing keys',
  audit: 'Audit trail',
};

/** What every console page has: who is signed in, the navigation, the forms' CSRF token. */
export interface AdminFrame {
  readonly username: string;
  /** `/admin` below the issuer's path. */
  readonly base: string;
  readonly csrf: string;
  readonly signOutHref: string;
  /** Said once at the top after a change; an error is announced as an alert. */
  readonly notice?: { readonly text: string; readonly error?: boolean } | undefined;
}

const when = (at: number | undefined) =>
  at === undefined ? '—' : `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')}`;

/** A form posting one action with hidden fields and one button. */
function actionForm(
  frame: AdminFrame,
  action: string,
  fields: Readonly<Record<string, string>>,
  label: string,
  accessibleName: string,
): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('');
  return `<form method="post" action="${escapeHtml(`${frame.base}/${action}`)}" class="inline"><input type="hidden" name="csrf" value="${escapeHtml(frame.csrf)}">${hidden}<button type="submit" class="secondary" aria-label="${escapeHtml(accessibleName)}">${escapeHtml(label)}</button></form>`;
}

function table(caption: string, head: readonly string[], rows: readonly string[][]): string {
  if (rows.length === 0) return `<p>No ${escapeHtml(caption.toLowerCase())}.</p>`;
  return `<div class="scroll" role="region" aria-label="${escapeHtml(caption)}" tabindex="0"><table>
<caption>${escapeHtml(caption)}</caption>
<thead><tr>${head.map((cell) => `<th scope="col">${escapeHtml(cell)}</th>`).join('')}</tr></thead>
<tbody>
${rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table></div>`;
}

const code = (value: string) => `<code>${escapeHtml(value)}</code>`;

function page(frame: AdminFrame, section: AdminSection, body: string): string {
  const nav = ADMIN_SECTIONS.map(
    (name) =>
      `<a href="${escapeHtml(`${frame.base}/${name}`)}"${name === section ? ' aria-current="page"' : ''}>${TITLES[name]}</a>`,
  ).join('');
  const notice = frame.notice
    ? `<p class="${frame.notice.error ? 'error' : 'notice'}" role="${frame.notice.error ? 'alert' : 'status'}">${escapeHtml(frame.notice.text)}</p>`
    : '';
  return layout(
    `${TITLES[section]} · Admin`,
    `<header class="bar"><h1>${TITLES[section]}</h1><p class="muted">Admin console · <strong>${escapeHtml(frame.username)}</strong> · <a href="${escapeHtml(frame.signOutHref)}">Sign out</a></p></header>
<nav class="tabs" aria-label="Admin sections">${nav}</nav>
${notice}
${body}`,
    { wide: true },
  );
}

export interface AdminClient {
  readonly clientId: string;
  readonly name: string;
  readonly origin: string;
  readonly redirectHosts: string;
  readonly grants: number;
  readonly lastUsedAt: number | undefined;
  /** Configured clients (AUTH_CLIENTS) are changed in configuration, not here. */
  readonly deletable: boolean;
}

export function renderAdminClients(frame: AdminFrame, clients: readonly AdminClient[]): string {
  return page(
    frame,
    'clients',
    `<p class="muted">Deleting a client revokes its grants: its refresh tokens stop and its tokens answer inactive at introspection. A registered client can register again.</p>
${table(
  'Clients',
  ['Name', 'Client id', 'Registered by', 'Redirect hosts', 'Grants', 'Last used (UTC)', ''],
  clients.map((client) => [
    escapeHtml(client.name),
    code(client.clientId),
    escapeHtml(client.origin),
    escapeHtml(client.redirectHosts || '—'),
    String(client.grants),
    when(client.lastUsedAt),
    client.deletable
      ? actionForm(
          frame,
          'clients/delete',
          { client_id: client.clientId },
          'Delete',
          `Delete client ${client.name}`,
        )
      : '<span class="muted">in AUTH_CLIENTS</span>',
  ]),
)}`,
  );
}

/** A person's use of MCP servers over the last day, from the trail. */
export interface Usage {
  readonly toolCalls: number;
  readonly rateLimited: number;
}

export interface AdminUsers {
  readonly local: readonly { readonly username: string; readonly admin: boolean }[];
  /** Per account id (those that used an MCP server writing to the trail in the last 24 h). */
  readonly usage: ReadonlyMap<string, Usage>;
  readonly federated: readonly {
    readonly accountId: string;
    readonly upstream: string;
    readonly username: string | undefined;
    readonly email: string | undefined;
    readonly lastSignInAt: number;
  }[];
}

export function renderAdminUsers(frame: AdminFrame, users: AdminUsers): string {
  const calls = (id: string) => String(users.usage.get(id)?.toolCalls ?? 0);
  const limited = (id: string) => String(users.usage.get(id)?.rateLimited ?? 0);
  const csrf = `<input type="hidden" name="csrf" value="${escapeHtml(frame.csrf)}">`;
  return page(
    frame,
    'users',
    `${table(
      'Local users',
      ['Username', 'Role', 'Tool calls (24 h)', 'Rate-limited (24 h)', 'New password', ''],
      users.local.map((user) => [
        escapeHtml(user.username),
        user.admin ? 'admin' : 'user',
        calls(user.username),
        limited(user.username),
        `<form method="post" action="${escapeHtml(`${frame.base}/users/reset`)}" class="inline">${csrf}<input type="hidden" name="username" value="${escapeHtml(user.username)}"><label class="sr-only" for="reset-${escapeHtml(user.username)}">New password for ${escapeHtml(user.username)}</label><input type="password" id="reset-${escapeHtml(user.username)}" name="password" autocomplete="new-password" minlength="8" required><button type="submit" class="secondary">Reset password</button></form>`,
        actionForm(
          frame,
          'users/remove',
          { username: user.username },
          'Remove',
          `Remove user ${user.username}`,
        ),
      ]),
    )}
<h2>Add a user</h2>
<form method="post" action="${escapeHtml(`${frame.base}/users/add`)}" class="row">${csrf}
<label for="new-username">Username</label><input type="text" id="new-username" name="username" autocomplete="off" autocapitalize="none" spellcheck="false" pattern="[A-Za-z0-9_.@-]{1,64}" required>
<label for="new-password">Password</label><input type="password" id="new-password" name="password" autocomplete="new-password" minlength="8" required>
<div class="actions"><button type="submit" class="primary">Add user</button></div>
</form>
<h2>Accounts from identity providers</h2>
${table(
  'Accounts from identity providers',
  [
    'Account',
    'Provider',
    'Name',
    'Email',
    'Last sign-in (UTC)',
    'Tool calls (24 h)',
    'Rate-limited (24 h)',
    '',
  ],
  users.federated.map((account) => [
    code(account.accountId),
    escapeHtml(account.upstream),
    escapeHtml(account.username ?? '—'),
    escapeHtml(account.email ?? '—'),
    when(account.lastSignInAt),
    calls(account.accountId),
    limited(account.accountId),
    actionForm(
      frame,
      'accounts/remove',
      { account_id: account.accountId },
      'Remove',
      `Remove account ${account.accountId}`,
    ),
  ]),
)}`,
  );
}

export interface AdminGrant {
  readonly id: string;
  readonly accountId: string;
  readonly clientId: string;
  readonly clientName: string;
  readonly issuedAt: number | undefined;
  readonly refreshedAt: number | undefined;
  readonly usedAt: number | undefined;
}

export function renderAdminGrants(frame: AdminFrame, grants: readonly AdminGrant[]): string {
  return page(
    frame,
    'grants',
    `<p class="muted">One grant per authorization. Times come from the audit trail: tokens last issued, last refreshed, last used at an MCP server that writes to it.</p>
${table(
  'Grants',
  ['Account', 'Client', 'Grant', 'Issued', 'Refreshed', 'Used', ''],
  grants.map((grant) => [
    escapeHtml(grant.accountId),
    `${escapeHtml(grant.clientName)}<br>${code(grant.clientId)}`,
    code(grant.id),
    when(grant.issuedAt),
    when(grant.refreshedAt),
    when(grant.usedAt),
    actionForm(
      frame,
      'grants/revoke',
      { grant_id: grant.id },
      'Revoke',
      `Revoke grant ${grant.id} of ${grant.accountId} to ${grant.clientName}`,
    ),
  ]),
)}`,
  );
}

export interface AdminKey {
  readonly kid: string;
  readonly alg: string;
  readonly createdAt: number;
  readonly retiredAt: number | null;
}

export function renderAdminKeys(frame: AdminFrame, keys: readonly AdminKey[]): string {
  return page(
    frame,
    'keys',
    `<p class="muted">Rotating creates a new key per algorithm and signs with it at once; retired keys stay published until the tokens they signed have expired.</p>
${actionForm(frame, 'keys/rotate', {}, 'Rotate signing keys', 'Rotate signing keys')}
${table(
  'Signing keys',
  ['Key id', 'Algorithm', 'Created (UTC)', 'Status'],
  keys.map((key) => [
    code(key.kid),
    escapeHtml(key.alg),
    when(key.createdAt),
    key.retiredAt === null ? 'signing' : `retired ${when(key.retiredAt)}`,
  ]),
)}`,
  );
}

export interface AdminAuditView {
  readonly filter: Readonly<Record<'user' | 'client' | 'type' | 'since', string>>;
  readonly types: readonly string[];
  readonly events: readonly AuditEvent[];
  readonly error?: string | undefined;
}

export function renderAdminAudit(frame: AdminFrame, view: AdminAuditView): string {
  const input = (name: 'user' | 'client' | 'since', label: string, hint: string) =>
    `<div><label for="f-${name}">${label}</label><input type="text" id="f-${name}" name="${name}" value="${escapeHtml(view.filter[name])}" placeholder="${escapeHtml(hint)}" autocomplete="off"></div>`;
  const options = ['', ...view.types]
    .map(
      (type) =>
        `<option value="${escapeHtml(type)}"${type === view.filter.type ? ' selected' : ''}>${type ? escapeHtml(type) : 'any'}</option>`,
    )
    .join('');
  const detail = (event: AuditEvent) =>
    Object.entries(event.detail ?? {})
      .map(([name, value]) => `${escapeHtml(name)}=${escapeHtml(value)}`)
      .join(' ');
  return page(
    frame,
    'audit',
    `<form method="get" action="${escapeHtml(`${frame.base}/audit`)}" class="filters" role="search" aria-label="Filter the audit trail">
${input('user', 'User', 'alice')}
${input('client', 'Client', 'client id')}
<div><label for="f-type">Type</label><select id="f-type" name="type">${options}</select></div>
${input('since', 'Since', '1d, 12h, 2026-12-01T09:00Z')}
<div class="actions"><button type="submit" class="primary">Filter</button></div>
</form>
${view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : ''}
${table(
  'Audit events, newest first',
  ['Time (UTC)', 'Type', 'Outcome', 'Actor', 'Client', 'Details', 'Request'],
  [...view.events]
    .reverse()
    .map((event) => [
      when(event.at),
      escapeHtml(event.type),
      escapeHtml(event.outcome),
      escapeHtml(event.actor ?? '—'),
      event.client ? code(event.client) : '—',
      detail(event),
      event.requestId ? code(event.requestId) : '—',
    ]),
)}`,
  );
}
