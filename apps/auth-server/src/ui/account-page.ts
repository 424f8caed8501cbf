import type { ConnectedApp } from '../account/connected-apps.js';
import { escapeHtml, layout } from './pages.js';

export interface AccountPage {
  readonly username: string;
  readonly apps: readonly ConnectedApp[];
  readonly revokeAction: string;
  readonly csrf: string;
  readonly signOutHref: string;
  /** Said once at the top after a change ("Access of X revoked"). */
  readonly notice?: string | undefined;
}

const when = (at: number | undefined) =>
  at === undefined ? 'never' : `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function scopeList(scopes: ConnectedApp['scopes']): string {
  const items = [...scopes].map(
    ([resource, list]) =>
      `<li>${list.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(' ')}${
        resource ? ` <span class="muted">on <code>${escapeHtml(resource)}</code></span>` : ''
      }</li>`,
  );
  return items.length > 0 ? `<ul class="scopes">${items.join('')}</ul>` : 'none';
}

/**
 * "Connected apps": every client the signed-in person granted access to, with a Revoke button
 * each (a CSRF-protected form post). Server-rendered under the pages' strict CSP, no script.
 */
export function renderAccount(page: AccountPage): string {
  const apps = page.apps.map((app, index) => {
    const heading = `app-${index}`;
    return `<li aria-labelledby="${heading}">
<h2 id="${heading}">${escapeHtml(app.name)}</h2>
<dl>
<dt>Client id</dt><dd><code>${escapeHtml(app.clientId)}</code></dd>
<dt>Registered by</dt><dd>${escapeHtml(app.origin)}</dd>
<dt>Sends you back to</dt><dd>${escapeHtml(app.redirectHosts || 'nowhere')}</dd>
<dt>Access</dt><dd>${scopeList(app.scopes)}</dd>
<dt>First used</dt><dd>${when(app.firstUsedAt)}</dd>
<dt>Last used</dt><dd>${when(app.lastUsedAt)}</dd>
</dl>
<form method="post" action="${escapeHtml(page.revokeAction)}">
<input type="hidden" name="csrf" value="${escapeHtml(page.csrf)}">
<input type="hidden" name="client_id" value="${escapeHtml(app.clientId)}">
<button type="submit" class="secondary" aria-label="Revoke access of ${escapeHtml(app.name)}">Revoke access</button>
</form>
</li>`;
  });
  return layout(
    'Connected apps',
    `<header class="bar"><h1>Connected apps</h1><p class="muted">Signed in as <strong>${escapeHtml(page.username)}</strong> · <a href="${escapeHtml(page.signOutHref)}">Sign out</a></p></header>
${page.notice ? `<p class="notice" role="status">${escapeHtml(page.notice)}</p>` : ''}
<p class="muted">Applications you allowed to act as you. Revoking one signs it out at once: it has to ask you again.</p>
${apps.length > 0 ? `<ul class="apps">\n${apps.join('\n')}\n</ul>` : '<p>No application has access to your account.</p>'}`,
    { wide: true },
  );
}
