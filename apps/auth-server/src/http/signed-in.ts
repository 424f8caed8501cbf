import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sendOAuthError } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';
import type { Accounts } from '../accounts/accounts.js';
import { ACCOUNT_CALLBACK_PATH, ACCOUNT_CLIENT_ID } from '../provider/account-client.js';
import type { ProviderHolder } from '../provider/provider-holder.js';
import { revokeGrant, type Store } from '../store/store.js';
import { renderMessage } from '../ui/pages.js';
import { bufferedBody } from './body.js';
import { interactionCsrf } from './interactions/csrf.js';
import { sendPage } from './interactions/page.js';

/** A person signed in to the authorization server (its session), for their own pages. */
export interface SignedIn {
  readonly accountId: string;
  readonly username: string;
  /** The session's id: CSRF tokens are bound to it. */
  readonly sessionUid: string;
}

/** The pages a person signs in to: where the sign-in comes back to. */
export type PersonalPage = '/account' | '/admin';

export interface SignedInSessions {
  /** Who is signed in, or undefined (nobody, or an account since removed). */
  signedIn(ctx: Context): Promise<SignedIn | undefined>;
  /** Sends the browser to sign in, then back to `page`. */
  startSignIn(ctx: Context, page: PersonalPage): void;
  /** A form's CSRF token for `purpose`, bound to the session. */
  csrfToken(who: SignedIn, purpose: string): string;
  csrfValid(who: SignedIn, purpose: string, token: unknown): boolean;
  /** `GET /account/callback`, where every such sign-in comes back. */
  callback(ctx: Context, next: Next): Promise<void>;
}

const STATE_COOKIE = 'gatehouse.signin_state';
const PAGES: readonly PersonalPage[] = ['/account', '/admin'];

/**
 * Signing in to a person's own pages (connected apps, the admin console): the authorization
 * server's own session, as any sign-in leaves it. Without one, the page signs them in through the
 * authorization endpoint with the account page's client (provider/account-client.ts), the same
 * sign-in pages as every client, and the callback sends them back to the page they asked for. Its
 * `state` sits in a cookie, so a callback this browser did not start is refused; its code and the
 * grant behind it are destroyed, so this sign-in can never become a token.
 */
export function signedInSessions(deps: {
  readonly providers: ProviderHolder;
  readonly store: Pick<Store, 'models'>;
  readonly accounts: Pick<Accounts, 'claimsOf'>;
  readonly csrfSecret: string;
  readonly issuer: string;
  /** The issuer's path prefix ('' at the host root). */
  readonly basePath: string;
  readonly authorizationPath: string;
  readonly https: boolean;
}): SignedInSessions {
  const cookieOptions = {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: deps.https,
    path: `${deps.basePath}${ACCOUNT_CALLBACK_PATH}`,
    overwrite: true,
  };
  // The sign-in pages' CSRF tokens, keyed here by purpose, session and account.
  const csrf = interactionCsrf(deps.csrfSecret);
  const csrfKey = (who: SignedIn, purpose: string) =>
    `${purpose}:${who.sessionUid}:${who.accountId}`;
  return {
    async signedIn(ctx) {
      const session = await deps.providers.current.Session.get(ctx as never);
      const accountId = session.accountId;
      if (!accountId) return undefined;
      const claims = await deps.accounts.claimsOf(accountId);
      return claims && { accountId, username: claims.preferred_username, sessionUid: session.uid };
    },
    startSignIn(ctx, page) {
      const state = randomBytes(16).toString('base64url');
      // PKCE is required of every client; this one never exchanges its code.
      const challenge = createHash('sha256').update(randomBytes(32)).digest('base64url');
      const query = new URLSearchParams({
        client_id: ACCOUNT_CLIENT_ID,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: `${deps.issuer}${ACCOUNT_CALLBACK_PATH}`,
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      ctx.cookies.set(STATE_COOKIE, `${state}.${PAGES.indexOf(page)}`, {
        ...cookieOptions,
        maxAge: 10 * 60_000,
      });
      ctx.set('cache-control', 'no-store');
      ctx.redirect(`${deps.basePath}${deps.authorizationPath}?${query}`);
    },
    csrfToken: (who, purpose) => csrf.tokenFor(csrfKey(who, purpose)),
    csrfValid: (who, purpose, token) => csrf.valid(csrfKey(who, purpose), token),
    async callback(ctx, next) {
      if (ctx.path !== ACCOUNT_CALLBACK_PATH || ctx.method !== 'GET') return next();
      const [expected, pageIndex] = (ctx.cookies.get(STATE_COOKIE) ?? '').split('.');
      const state = ctx.query.state;
      ctx.cookies.set(STATE_COOKIE, null, cookieOptions);
      if (!expected || typeof state !== 'string' || !sameText(state, expected)) {
        const page = renderMessage('Sign-in expired', 'Open the page again to sign in.');
        sendPage(ctx, page, undefined, 400);
        return;
      }
      const code = typeof ctx.query.code === 'string' ? ctx.query.code : undefined;
      const found = code ? await deps.providers.current.AuthorizationCode.find(code) : undefined;
      if (found?.clientId === ACCOUNT_CLIENT_ID) {
        if (found.grantId) await revokeGrant(deps.store.models, found.grantId);
        await found.destroy();
      }
      ctx.set('cache-control', 'no-store');
      ctx.status = 303;
      ctx.redirect(`${deps.basePath}${PAGES[Number(pageIndex)] ?? '/account'}`);
    },
  };
}

function sameText(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The account page's client never uses the token endpoint: its sign-in only leaves a session. The
 * callback destroys the code it gets, but someone who starts that client's authorization request
 * themselves (with their own PKCE verifier) and stops at the redirect holds a code: refused here,
 * whatever the grant, so no token is ever issued to this client.
 */
export function refuseAccountClientTokens(tokenPath: string) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== tokenPath || ctx.method !== 'POST') return next();
    const body = bufferedBody(ctx);
    const clientId = body ? new URLSearchParams(body.toString('utf8')).get('client_id') : null;
    if (
      clientId !== ACCOUNT_CLIENT_ID &&
      basicClientId(ctx.get('authorization')) !== ACCOUNT_CLIENT_ID
    )
      return next();
    sendOAuthError(ctx, 400, 'unauthorized_client', 'this client does not use the token endpoint');
  };
}

/** The client id of an HTTP Basic Authorization header (RFC 6749 §2.3.1: form-urlencoded). */
function basicClientId(header: string): string | undefined {
  const credentials = /^Basic\s+(\S+)$/i.exec(header)?.[1];
  if (!credentials) return undefined;
  const user = Buffer.from(credentials, 'base64').toString('utf8').split(':')[0] ?? '';
  try {
    return decodeURIComponent(user.replaceAll('+', ' '));
  } catch {
    return user;
  }
}
