import { createHash } from 'node:crypto';

/**
 * Server-rendered pages: plain HTML forms that work without JavaScript, no external assets, one
 * inline stylesheet allowed by its hash in a strict Content-Security-Policy.
 */

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#f6f7f9;--card:#fff;--muted:#4a5562;--accent:#0b57d0;--accent-fg:#fff;--border:#c9ced6;--error:#a50e0e}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--bg:#14171a;--card:#1f2327;--muted:#b3bac3;--accent:#8ab4f8;--accent-fg:#0b1a33;--border:#454c55;--error:#f28b82}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:28rem;margin:6vh auto;padding:0 1rem}.card{background:var(--card);border:1px solid var(--border);border-radius:12px;padding:1.5rem}
h1{font-size:1.35rem;margin:0 0 1rem}p{margin:.5rem 0}.muted{color:var(--muted);font-size:.9rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}input[type=text],input[type=password]{width:100%;padding:.6rem .7rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--border);border-radius:8px}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.actions{display:flex;gap:.75rem;margin-top:1.5rem;flex-wrap:wrap}button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border-radius:8px;border:1px solid var(--accent);cursor:pointer;min-height:44px}
button.primary{background:var(--accent);color:var(--accent-fg)}button.secondary{background:transparent;color:var(--accent)}
.error{color:var(--error);font-weight:600}ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.35rem 0}code{font-size:.85em;word-break:break-all}
`;

export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

// The data: icon keeps browsers from asking for /favicon.ico (a 404 in the console on every page).
function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · Gatehouse</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="card">
${body}
</div>
</main>
</body>
</html>`;
}

export interface LoginPage {
  readonly action: string;
  readonly csrf: string;
  readonly clientName: string;
  readonly username?: string;
  readonly error?: string;
}

export function renderLogin(page: LoginPage): string {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p class="muted">to continue to <strong>${escapeHtml(page.clientName)}</strong></p>
${page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : ''}
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(page.csrf)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(page.username ?? '')}"${page.username ? '' : ' autofocus'}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${page.username ? ' autofocus' : ''}>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>`,
  );
}

export interface ConsentPage {
  readonly action: string;
  readonly csrf: string;
  readonly clientName: string;
  readonly redirectHost: string;
  readonly resource: string;
  readonly scopes: ReadonlyArray<{ readonly scope: string; readonly description: string }>;
  readonly username: string;
}

export function renderConsent(page: ConsentPage): string {
  const scopes = page.scopes
    .map(
      (s) =>
        `<li>${escapeHtml(s.description)} <span class="muted">(<code>${escapeHtml(s.scope)}</code>)</span></li>`,
    )
    .join('\n');
  return layout(
    'Allow access',
    `<h1>Allow access?</h1>
<p><strong>${escapeHtml(page.clientName)}</strong> wants to act as <strong>${escapeHtml(page.username)}</strong> on</p>
<p><code>${escapeHtml(page.resource)}</code></p>
<p>It will be able to:</p>
<ul class="scopes">
${scopes}
</ul>
<p class="muted">You will be sent back to <strong>${escapeHtml(page.redirectHost)}</strong>.</p>
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(page.csrf)}">
<div class="actions">
<button type="submit" name="decision" value="allow" class="primary" autofocus>Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`,
  );
}

export function renderErrorPage(
  out: { error?: string | undefined; error_description?: string | undefined },
  _error: unknown,
): string {
  return layout(
    'Error',
    `<h1>Something went wrong</h1>
<p class="error">${escapeHtml(out.error ?? 'server_error')}</p>
<p>${escapeHtml(out.error_description ?? 'The request could not be completed.')}</p>`,
  );
}

export function renderMessage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}

/** CSP for every page we render: no scripts at all, only our stylesheet, forms to `formTargets`. */
export function pageCsp(formTargets = "'self'"): string {
  return `default-src 'none'; style-src ${STYLE_HASH}; img-src 'self' data:; form-action ${formTargets}; frame-ancestors 'none'; base-uri 'none'`;
}

/** oidc-provider's logout confirmation; `form` is its hidden form (id `op.logoutForm`) with the xsrf token. */
export function renderLogout(form: string, host: string): string {
  return layout(
    'Sign out',
    `<h1>Sign out?</h1>
<p>Do you want to sign out from <strong>${escapeHtml(host)}</strong>?</p>
${form}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>
</div>`,
  );
}

export function renderLoggedOut(clientName: string | undefined): string {
  return layout(
    'Signed out',
    `<h1>Signed out</h1><p>You have been signed out${clientName ? ` of ${escapeHtml(clientName)}` : ''}.</p>`,
  );
}
