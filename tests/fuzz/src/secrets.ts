import type { SecretEntry } from './plan.js';
import { headerValue, type ParsedResponse } from './wire.js';

/** Shorter values would match by chance (and no secret of ours is that short). */
export const MIN_SECRET_LENGTH = 8;
const PREFIX = MIN_SECRET_LENGTH;

/** Fields of OAuth responses (JSON, redirects, form_post pages) whose values are credentials. */
const SECRET_FIELDS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'client_secret',
  'registration_access_token',
  'device_code',
  'csrf',
  'xsrf',
]);

/**
 * A cookie whose value is part of its own Path is not a secret: the browser requests that URL, and
 * the access log records it. oidc-provider's interaction cookies are such (their value is the
 * interaction's uid, the path of the sign-in pages `/interaction/<uid>` and `/auth/<uid>`); what
 * makes them unforgeable is their `.sig` companion, which is scanned for.
 */
export function publicCookie(value: string, path: string | undefined): boolean {
  return value.length > 0 && path !== undefined && path.split('/').includes(value);
}

/**
 * Every secret the run saw, and a scanner for them: candidates are found by their first eight
 * characters in a map, so scanning megabytes of log against thousands of secrets stays linear.
 */
export class SecretRegistry {
  readonly #byPrefix = new Map<string, SecretEntry[]>();
  readonly #values = new Set<string>();

  get size(): number {
    return this.#values.size;
  }

  add(value: string | undefined, label: string): void {
    if (!value || value.length < MIN_SECRET_LENGTH || this.#values.has(value)) return;
    this.#values.add(value);
    const key = value.slice(0, PREFIX);
    const list = this.#byPrefix.get(key) ?? [];
    list.push({ value, label });
    this.#byPrefix.set(key, list);
  }

  addAll(entries: readonly SecretEntry[]): void {
    for (const entry of entries) this.add(entry.value, entry.label);
  }

  /** Each occurrence of a known secret in `text` (the longest one at a position). */
  find(text: string): Array<{ readonly entry: SecretEntry; readonly at: number }> {
    const found: Array<{ entry: SecretEntry; at: number }> = [];
    for (let at = 0; at + PREFIX <= text.length; at++) {
      const candidates = this.#byPrefix.get(text.slice(at, at + PREFIX));
      if (!candidates) continue;
      let best: SecretEntry | undefined;
      for (const entry of candidates)
        if (text.startsWith(entry.value, at) && entry.value.length > (best?.value.length ?? 0))
          best = entry;
      if (best) {
        found.push({ entry: best, at });
        at += best.value.length - 1;
      }
    }
    return found;
  }

  /** `text` with every known secret replaced by `<label>`, for printing. */
  redact(text: string): string {
    const found = this.find(text);
    if (found.length === 0) return text;
    let out = '';
    let from = 0;
    for (const { entry, at } of found) {
      out += `${text.slice(from, at)}<${entry.label}>`;
      from = at + entry.value.length;
    }
    return out + text.slice(from);
  }
}

function collectFields(value: unknown, registry: SecretRegistry, depth: number): void {
  if (depth > 8 || typeof value !== 'object' || value === null) return;
  for (const [key, field] of Object.entries(value)) {
    if (typeof field === 'string' && SECRET_FIELDS.has(key)) registry.add(field, key);
    else collectFields(field, registry, depth + 1);
  }
}

/**
 * Adds the secrets a response hands out: tokens, codes and client credentials in JSON bodies,
 * codes in redirects, CSRF tokens and form_post fields in pages, and cookie values.
 */
export function harvestSecrets(response: ParsedResponse, registry: SecretRegistry): void {
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') continue;
    const [pair = '', ...attributes] = value.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const cookie = pair.slice(0, eq).trim();
    const cookieValue = pair.slice(eq + 1).trim();
    const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5);
    if (eq > 0 && !publicCookie(cookieValue, path)) registry.add(cookieValue, `cookie ${cookie}`);
  }
  const location = headerValue(response, 'location');
  const url = location ? URL.parse(location, 'http://localhost') : null;
  if (url) {
    for (const params of [url.searchParams, new URLSearchParams(url.hash.slice(1))])
      for (const [key, value] of params) if (SECRET_FIELDS.has(key)) registry.add(value, key);
  }
  if (response.body.length === 0 || response.body.length > 1_000_000) return;
  const contentType = headerValue(response, 'content-type') ?? '';
  const text = response.body.toString('utf8');
  if (/json/i.test(contentType)) {
    try {
      collectFields(JSON.parse(text), registry, 0);
    } catch {
      // not JSON after all
    }
  } else if (/html/i.test(contentType)) {
    for (const match of text.matchAll(/<input\b[^>]*>/gi)) {
      const tag = match[0];
      const name = /\bname\s*=\s*"([^"]*)"/i.exec(tag)?.[1];
      const value = /\bvalue\s*=\s*"([^"]*)"/i.exec(tag)?.[1];
      if (name && value && SECRET_FIELDS.has(name)) registry.add(value, name);
    }
  }
}
