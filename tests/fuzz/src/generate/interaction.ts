import type { PlannedRequest, SecretEntry } from '../plan.js';
import type { Random } from '../random.js';
import type { FuzzContext, LiveInteraction } from './context.js';
import { finish, form } from './envelope.js';
import { contentType, encode, mangledToken, mixedString, nastyString } from './values.js';

/**
 * The login and consent pages: the live interactions' uids, cookies and CSRF tokens mixed with
 * wrong ones, forms with huge, repeated or missing fields, in the wrong content type. Every wrong
 * password is unique to the request and becomes a secret the logs are scanned for.
 */

function uidOf(r: Random, live: LiveInteraction): string {
  return r.weighted<string>([
    [live.uid, 14],
    [r.alnum(21), 2],
    [r.alnum(r.pick([9, 65, 200])), 1],
    [encode(nastyString(r, 300)), 1],
    ['..', 1],
    [`${live.uid.slice(0, -1)}-`, 1],
  ]);
}

function cookieOf(r: Random, ctx: FuzzContext, live: LiveInteraction): string | undefined {
  return r.weighted<string | undefined>([
    [live.cookie, 14],
    [r.pick([ctx.loginInteraction, ctx.consentInteraction]).cookie, 2],
    [ctx.sessionCookie, 1],
    [undefined, 2],
    [`_interaction=${live.uid}; _interaction.sig=${r.alnum(27)}`, 1],
    [`${live.cookie}; ${live.cookie}`, 1],
    [`_interaction=${'x'.repeat(r.pick([100, 6_000]))}`, 1],
  ]);
}

function csrfOf(r: Random, live: LiveInteraction): string | undefined {
  return r.weighted<string | undefined>([
    [live.csrf, 6],
    [mangledToken(r, live.csrf), 2],
    [undefined, 1],
    ['', 1],
    [nastyString(r, 20_000), 1],
    [live.csrf.toLowerCase(), 1],
    [`${live.csrf} `, 1],
  ]);
}

export function interaction(r: Random, ctx: FuzzContext, index: number): PlannedRequest {
  const step = r.weighted<'login' | 'consent' | 'page' | 'other'>([
    ['login', 6],
    ['consent', 4],
    ['page', 2],
    ['other', 1],
  ]);
  const live =
    step === 'consent'
      ? ctx.consentInteraction
      : step === 'login'
        ? ctx.loginInteraction
        : r.pick([ctx.loginInteraction, ctx.consentInteraction]);
  const uid = uidOf(r, live);
  const suffix =
    step === 'page'
      ? ''
      : step === 'other'
        ? r.pick(['/other', '/login/x', '/consent/', '/%2e%2e', '/LOGIN'])
        : `/${step}`;
  const method =
    step === 'page'
      ? r.weighted<string>([
          ['GET', 6],
          ['POST', 1],
          ['HEAD', 1],
          ['DELETE', 1],
        ])
      : r.weighted<string>([
          ['POST', 12],
          ['GET', 1],
          ['PUT', 1],
        ]);
  const headers: Array<[string, string]> = [];
  const cookie = cookieOf(r, ctx, live);
  if (cookie !== undefined) headers.push(['Cookie', cookie]);
  const sentSecrets: SecretEntry[] = [];
  let body: string | Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    const fields: Array<[string, string]> = [];
    const csrf = csrfOf(r, live);
    if (csrf !== undefined) fields.push(['csrf', csrf]);
    if (step === 'login' || r.chance(0.2)) {
      fields.push([
        'username',
        r.weighted<string>([
          [ctx.username, 5],
          [nastyString(r, 20_000), 2],
          [mixedString(r, 12), 1],
          ['', 1],
          [ctx.username.toUpperCase(), 1],
        ]),
      ]);
      // The real password rarely (each success costs a scrypt and moves the interaction on).
      const password = r.chance(0.04)
        ? ctx.password
        : `wrong-pw-${ctx.seed}-${index}-${r.alnum(8)}`;
      if (r.chance(0.95)) fields.push(['password', password]);
      if (password !== ctx.password)
        sentSecrets.push({ value: password, label: 'password sent to the sign-in form' });
      if (r.chance(0.05)) fields.push(['password', 'x'.repeat(r.pick([1_000, 15_000]))]);
    }
    if (step === 'consent' || r.chance(0.2))
      fields.push([
        'decision',
        r.pick(['allow', 'allow', 'deny', '', 'ALLOW', nastyString(r, 1_000)]),
      ]);
    if (r.chance(0.1)) fields.push(['csrf', r.pick([live.csrf, 'second'])]);
    if (r.chance(0.05)) fields.push(['x', 'y'.repeat(r.pick([17_000, 200_000]))]);
    const roll = r.int(0, 19);
    body =
      roll === 0
        ? JSON.stringify(Object.fromEntries(fields))
        : roll === 1
          ? r.bytes(r.int(1, 500))
          : form(fields);
    if (roll === 2) body = `${form(fields)}&username[]=a&username[]=b&password[x]=y`;
    const type = contentType(r, 'application/x-www-form-urlencoded');
    if (type !== undefined) headers.push(['Content-Type', type]);
  }
  return finish(r, ctx, index, {
    app: 'auth',
    method,
    target: `/interaction/${uid}${suffix}`,
    route: `/interaction/:uid${suffix.length > 12 ? '/…' : suffix}`,
    headers,
    body,
    sentSecrets,
  });
}
