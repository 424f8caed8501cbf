/**
 * A headless user agent for OAuth flows in tests: a cookie jar, manual redirect following, and
 * HTML form reading and submission. It is what a browser does between an authorization request and
 * the redirect back to the client, minus rendering, so every suite (our authorization server,
 * Keycloak) drives login and consent the same way. Real browsers are exercised separately.
 */

export interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly host: string;
  readonly path: string;
}

export interface HtmlForm {
  readonly action: string;
  readonly method: string;
  readonly fields: Record<string, string>;
  /** Names and values of submit buttons (e.g. Allow / Deny). */
  readonly buttons: Array<{ name: string; value: string }>;
}

export interface PageResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

const decodeEntities = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!match) return undefined;
  return decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
}

/** Reads every `<form>` of a page with its hidden and pre-filled inputs and its submit buttons. */
export function parseForms(html: string, baseUrl: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const open = match[1] ?? '';
    const inner = match[2] ?? '';
    const fields: Record<string, string> = {};
    const buttons: Array<{ name: string; value: string }> = [];
    for (const input of inner.matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const tag = input[2] ?? '';
      const name = attribute(tag, 'name');
      const type = (
        attribute(tag, 'type') ?? (input[1]?.toLowerCase() === 'button' ? 'submit' : 'text')
      ).toLowerCase();
      if (!name) continue;
      if (type === 'submit') buttons.push({ name, value: attribute(tag, 'value') ?? '' });
      else if (type !== 'checkbox' || /\schecked\b/i.test(tag))
        fields[name] = attribute(tag, 'value') ?? '';
    }
    forms.push({
      action: new URL(attribute(open, 'action') ?? baseUrl, baseUrl).href,
      method: (attribute(open, 'method') ?? 'GET').toUpperCase(),
      fields,
      buttons,
    });
  }
  return forms;
}

/**
 * Where a user agent's requests really go: like a load balancer in front of the server, requests for
 * any URL are sent to `origin` (same path and query) with `headers` added (X-Forwarded-Host, ...).
 */
/** Who the user agent signs in as, and what it answers on the consent page. */
export interface HeadlessLogin {
  readonly username: string;
  readonly password: string;
  /** Press Allow (default) or Deny on the consent page. */
  readonly consent?: 'allow' | 'deny';
  /**
   * Sign in through an upstream provider: follow the sign-in page's "Continue with <upstream>"
   * link, then sign in at the provider's own page with `username` and `password`.
   */
  readonly upstream?: string;
}

/** The href of a page's `<a>` whose text is `text` (entities decoded), if any. */
export function linkHref(html: string, text: string, baseUrl: string): string | undefined {
  for (const match of html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)) {
    const label = decodeEntities((match[2] ?? '').replace(/<[^>]*>/g, '').trim());
    const href = attribute(match[1] ?? '', 'href');
    if (label === text && href) return new URL(href, baseUrl).href;
  }
  return undefined;
}

/**
 * The consent page's button for the decision: ours are `decision=allow|deny`, Keycloak's are
 * `accept=Yes` and `cancel=No`.
 */
function consentButton(form: HtmlForm, decision: 'allow' | 'deny' = 'allow'): string {
  const names = decision === 'allow' ? ['allow', 'accept'] : ['deny', 'cancel'];
  const button = form.buttons.find((b) => names.includes(b.value) || names.includes(b.name));
  if (!button) throw new Error(`consent page has no ${decision} button`);
  return button.value || button.name;
}

export interface UserAgentGateway {
  readonly origin: string;
  readonly headers: Record<string, string>;
}

export class UserAgent {
  readonly cookies: StoredCookie[] = [];
  readonly #gateway: UserAgentGateway | undefined;

  constructor(options: { gateway?: UserAgentGateway } = {}) {
    this.#gateway = options.gateway;
  }

  /** Sends one request with the jar's cookies and stores the response's cookies; never follows. */
  async request(
    url: string,
    init: { method?: string; body?: URLSearchParams; headers?: Record<string, string> } = {},
  ): Promise<PageResponse> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...init.headers, ...this.#gateway?.headers };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const sentTo = this.#gateway
      ? `${this.#gateway.origin}${target.pathname}${target.search}`
      : url;
    const response = await fetch(sentTo, {
      method: init.method ?? (init.body ? 'POST' : 'GET'),
      headers,
      redirect: 'manual',
      ...(init.body ? { body: init.body.toString() } : {}),
    });
    this.store(target, response.headers.getSetCookie());
    return { url, status: response.status, headers: response.headers, body: await response.text() };
  }

  /**
   * Follows redirects from `url` until a page answers (2xx/4xx/5xx) or a redirect leaves for a URL
   * for which `stopAt` returns true (the client's redirect URI); returns that last response.
   */
  async navigate(
    url: string,
    stopAt: (url: string) => boolean,
    init: { method?: string; body?: URLSearchParams } = {},
  ): Promise<PageResponse> {
    let response = await this.request(url, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response;
      const next = new URL(location, response.url).href;
      if (stopAt(next)) return { ...response, url: next };
      response = await this.request(next);
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /**
   * Plays the user from an authorization request to the redirect back to the client: signs in on
   * a password form and answers a consent form, until a redirect leaves for a URL for which
   * `atCallback` returns true. Returns that redirect (its `url` is the callback with `code` or
   * `error`), or the page where the flow stopped: one without a form, or after four forms. The
   * body of every page shown on the way is pushed to `seen`, when given.
   */
  async authorize(
    url: string,
    atCallback: (url: string) => boolean,
    login: HeadlessLogin,
    seen?: string[],
  ): Promise<PageResponse> {
    let page = await this.navigate(url, atCallback);
    for (let step = 0; step < 4 && !atCallback(page.url); step++) {
      seen?.push(page.body);
      const upstream =
        login.upstream && linkHref(page.body, `Continue with ${login.upstream}`, page.url);
      if (upstream) {
        page = await this.navigate(upstream, atCallback);
        continue;
      }
      const form = parseForms(page.body, page.url)[0];
      if (!form) break;
      page =
        'password' in form.fields
          ? await this.submit(
              form,
              { username: login.username, password: login.password },
              atCallback,
            )
          : await this.submit(form, {}, atCallback, consentButton(form, login.consent));
    }
    return page;
  }

  /** Submits a form with overrides and an optional submit button, following redirects. */
  submit(
    form: HtmlForm,
    values: Record<string, string>,
    stopAt: (url: string) => boolean,
    button?: string,
  ): Promise<PageResponse> {
    const body = new URLSearchParams({ ...form.fields, ...values });
    const pressed = button
      ? form.buttons.find((b) => b.name === button || b.value === button)
      : form.buttons[0];
    if (pressed) body.set(pressed.name, pressed.value);
    return this.navigate(form.action, stopAt, { method: form.method, body });
  }

  cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => c.host === url.hostname && url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) || '/';
      const expired =
        attributes.some((a) => /^max-age=0$/i.test(a)) ||
        attributes.some(
          (a) => a.toLowerCase().startsWith('expires=') && Date.parse(a.slice(8)) < Date.now(),
        );
      const index = this.cookies.findIndex(
        (c) => c.name === name && c.host === url.hostname && c.path === path,
      );
      if (index >= 0) this.cookies.splice(index, 1);
      // Secure cookies are still sent back over plain http: Keycloak marks them so on localhost.
      if (!expired) this.cookies.push({ name, value, host: url.hostname, path });
    }
  }
}
