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
button.primary,a.button.primary{background:var(--accent);color:var(--accent-fg)}button.secondary,a.button.secondary{background:transparent;color:var(--accent)}
a.button{display:inline-flex;align-items:center;font-weight:600;padding:.6rem 1.2rem;border-radius:8px;border:1px solid var(--accent);min-height:44px;text-decoration:none}a.button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}.upstreams{flex-direction:column}.or{text-align:center;margin-top:1.25rem}
.error{color:var(--error);font-weight:600}ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.35rem 0}code{font-size:.85em;word-break:break-all}
main.wide{max-width:48rem}header.bar{display:flex;justify-content:space-between;align-items:baseline;gap:1rem;flex-wrap:wrap}ul.apps{list-style:none;padding:0;margin:0}ul.apps>li{border-top:1px solid var(--border);padding:1rem 0}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}li>h2{margin-top:0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}.notice{border-left:4px solid var(--accent);padding-left:.75rem}
@media (max-width:30rem){dl{grid-template-columns:1fr}dt{margin-top:.5rem}}
main.wide:has(table){max-width:72rem}nav.tabs{display:flex;gap:.25rem 1rem;flex-wrap:wrap;margin:0 0 1rem;border-bottom:1px solid var(--border);padding-bottom:.5rem}nav.tabs a{color:var(--accent);font-weight:600;text-decoration:none;padding:.25rem 0}nav.tabs a[aria-current=page]{color:var(--fg);border-bottom:3px solid var(--accent)}a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9rem}caption{text-align:left;font-weight:600;padding:.5rem 0}th,td{text-align:left;padding:.45rem .5rem;border-top:1px solid var(--border);vertical-align:top}
form.inline{display:inline-flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:0}form.inline button{min-height:36px;padding:.3rem .8rem}form.inline input[type=password]{width:11rem;padding:.4rem .5rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--border);border-radius:8px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}form.filters{display:flex;gap:.75rem;flex-wrap:wrap;align-items:end}form.filters label{margin-top:0}form.filters .actions{margin-top:0}select{padding:.55rem;font:inherit;color:inherit;background:var(--card);border:1px solid var(--border);border-radius:8px}
`;

export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

// The data: icon keeps browsers from asking for /favicon.ico (a 404 in the console on every page).
export function layout(
  title: string,
  body: string,
  options: { readonly wide?: boolean } = {},
): string {
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
<main${options.wide ? ' class="wide"' : ''}>
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
  /** The password form; off when there are no local users (default on). */
  readonly passwords?: boolean;
  /** "Continue with <name>" links, after the password form. */
  readonly upstreams?: ReadonlyArray<{ readonly name: string; readonly href: string }>;
}

export function renderLogin(page: LoginPage): string {
  const passwords = page.passwords ?? true;
  const upstreams = page.upstreams ?? [];
  const form = passwords
    ? `<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(page.csrf)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(page.username ?? '')}"${page.username ? '' : ' autofocus'}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${page.username ? ' autofocus' : ''}>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>`
    : '';
  const links = upstreams
    .map(
      (upstream) =>
        `<a class="button${passwords ? ' secondary' : ' primary'}" href="${escapeHtml(upstream.href)}">Continue with ${escapeHtml(upstream.name)}</a>`,
    )
    .join('\n');
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p class="muted">to continue to <strong>${escapeHtml(page.clientName)}</strong></p>
${page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : ''}
${form}
${links ? `${passwords ? '<p class="muted or">or</p>' : ''}<nav class="actions upstreams" aria-label="Sign in with">\n${links}\n</nav>` : ''}`,
  );
}

/**
 * The end of a sign-in that may not go on (an account an allow-list turns away, a scope the
 * account may not have): why, and a link that returns to the application with `access_denied`.
 */
export function renderDenied(page: {
  readonly title: string;
  readonly reason: string;
  readonly clientName: string;
  readonly returnTo: string;
}): string {
  return layout(
    page.title,
    `<h1>${escapeHtml(page.title)}</h1>
<p class="error" role="alert">${escapeHtml(page.reason)}</p>
<p class="muted">Ask the administrator of this server if you think you should have access.</p>
<div class="actions"><a class="button primary" id="return" href="${escapeHtml(page.returnTo)}">Return to ${escapeHtml(page.clientName)}</a></div>`,
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
  /** Scopes the application asked for that this account may not have: it will not get them. */
  readonly notAllowed?: readonly string[];
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
${page.notAllowed?.length ? `<p class="muted">It also asked for ${page.notAllowed.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(', ')}, which your account may not have: it will not get ${page.notAllowed.length === 1 ? 'it' : 'them'}.</p>` : ''}
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
