import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@gatehouse/logging';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Accounts } from '../accounts/accounts.js';
import { consentAlreadyGiven } from '../provider/offline-access.js';
import type { ProviderHolder } from '../provider/provider-holder.js';
import type { ResourceRegistry } from '../provider/resources.js';
import { StoreUnavailableError } from '../store/store-unavailable.js';
import { pageCsp, renderConsent, renderLogin, renderMessage } from '../ui/pages.js';
import type { LoginThrottle } from './login-throttle.js';

/**
 * The login and consent pages (oidc-provider interactions). Forms are CSRF-protected with a token
 * bound to the interaction (HMAC of its uid with a server secret) on top of oidc-provider's own
 * interaction cookie, which a cross-site form post cannot present with SameSite=Lax.
 */

export interface InteractionDependencies {
  /** The current oidc-provider (swapped when signing keys change). */
  readonly providers: ProviderHolder;
  readonly accounts: Accounts;
  readonly resources: ResourceRegistry;
  readonly throttle: LoginThrottle;
  readonly csrfSecret: string;
  readonly logger: Logger;
  /** The issuer's path prefix ('' at the host root), for form actions. */
  readonly basePath: string;
  /** Where the pages live below the issuer (`/interaction`), from the route table. */
  readonly path: string;
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function interactions(deps: InteractionDependencies) {
  const { providers, accounts, resources, throttle, logger } = deps;
  const route = new RegExp(`^${escapeRegExp(deps.path)}/([\\w-]{10,64})(?:/(login|consent))?$`);
  const pageUrl = (uid: string, step: 'login' | 'consent') =>
    `${deps.basePath}${deps.path}/${uid}/${step}`;
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const csrfFor = (uid: string) =>
    createHmac('sha256', deps.csrfSecret).update(uid).digest('base64url');
  const csrfValid = (uid: string, token: unknown) => {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(csrfFor(uid));
    const actual = Buffer.from(token);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };

  const page = (ctx: Context, html: string, redirectUri: string | undefined, status = 200) => {
    const target = redirectUri ? URL.parse(redirectUri) : null;
    // Chrome applies form-action to the redirects that follow a form post, so the client's
    // redirect URI must be allowed too.
    const formTargets = [
      "'self'",
      target ? (target.protocol.startsWith('http') ? target.origin : target.protocol) : '',
    ]
      .join(' ')
      .trim();
    ctx.set('content-security-policy', pageCsp(formTargets));
    ctx.set('cache-control', 'no-store');
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = html;
  };

  /** Ends the interaction with `result` and sends the browser on (303: the form's POST is done). */
  const finish = async (
    ctx: Context,
    result: Parameters<Provider['interactionResult']>[2],
    mergeWithLastSubmission: boolean,
  ) => {
    const location = await providers.current.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission,
    });
    ctx.status = 303;
    ctx.redirect(location);
  };

  return async (ctx: Context, next: Next): Promise<void> => {
    const match = route.exec(ctx.path);
    if (!match) return next();
    const [, uid = '', step] = match;
    let details: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      details = await providers.current.interactionDetails(ctx.req, ctx.res);
    } catch (error) {
      // A store failure is not an expired sign-in: it becomes the retryable 503
      // (store-unavailable.ts).
      if (error instanceof StoreUnavailableError) throw error;
      page(
        ctx,
        renderMessage(
          'Session expired',
          'This sign-in request has expired or was already used. Start again from your application.',
        ),
        undefined,
        400,
      );
      return;
    }
    if (details.uid !== uid) {
      page(
        ctx,
        renderMessage('Session mismatch', 'Start again from your application.'),
        undefined,
        400,
      );
      return;
    }
    const params = details.params as Record<string, string | undefined>;
    const client = await providers.current.Client.find(params.client_id ?? '');
    const clientName = client?.clientName ?? params.client_id ?? 'an application';
    const redirectUri = params.redirect_uri;
    const loginPage = (status: number, extra: { username?: string; error?: string } = {}) =>
      page(
        ctx,
        renderLogin({
          action: pageUrl(uid, 'login'),
          csrf: csrfFor(uid),
          clientName,
          ...extra,
        }),
        redirectUri,
        status,
      );

    if (ctx.method === 'GET' && !step) {
      if (details.prompt.name === 'login') {
        loginPage(200);
        return;
      }
      if (consentAlreadyGiven(details)) {
        await finish(ctx, { consent: {} }, true);
        return;
      }
      page(
        ctx,
        renderConsent(consentView(details, clientName, redirectUri, uid, csrfFor(uid))),
        redirectUri,
      );
      return;
    }
    if (ctx.method !== 'POST' || !step) {
      ctx.status = 405;
      return;
    }
    await parseForm(ctx, async () => undefined);
    const form = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    if (!csrfValid(uid, form.csrf)) {
      logger.warn({ uid, step }, 'interaction form refused: missing or wrong CSRF token');
      page(
        ctx,
        renderMessage('Request refused', 'The form could not be verified. Go back and try again.'),
        redirectUri,
        403,
      );
      return;
    }

    if (step === 'login') {
      const username = typeof form.username === 'string' ? form.username.trim() : '';
      const password = typeof form.password === 'string' ? form.password : '';
      const wait = await throttle.retryAfterMs(username, ctx.ip);
      if (wait > 0) {
        const minutes = Math.ceil(wait / 60_000);
        logger.warn({ uid, username, ip: ctx.ip }, 'sign-in throttled');
        ctx.set('retry-after', String(Math.ceil(wait / 1000)));
        loginPage(429, {
          username,
          error: `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
        });
        return;
      }
      const accountId =
        username && password ? await accounts.authenticate(username, password) : undefined;
      if (!accountId) {
        await throttle.recordFailure(username, ctx.ip);
        logger.info({ uid, username, ip: ctx.ip }, 'sign-in failed');
        loginPage(401, { username, error: 'Wrong username or password.' });
        return;
      }
      await throttle.recordSuccess(username);
      await finish(ctx, { login: { accountId } }, false);
      return;
    }

    // consent
    if (form.decision !== 'allow') {
      await finish(
        ctx,
        { error: 'access_denied', error_description: 'The user denied the request' },
        false,
      );
      return;
    }
    // No signed-in account, or its grant is gone: the same answer either way.
    const accountId = details.session?.accountId;
    const grant = !accountId
      ? undefined
      : details.grantId
        ? await providers.current.Grant.find(details.grantId)
        : new providers.current.Grant({ accountId, clientId: params.client_id ?? '' });
    if (!accountId || !grant) {
      page(
        ctx,
        renderMessage('Session expired', 'Sign in again from your application.'),
        redirectUri,
        400,
      );
      return;
    }
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await finish(ctx, { consent: details.grantId ? {} : { grantId } }, true);
  };

  function consentView(
    details: Awaited<ReturnType<Provider['interactionDetails']>>,
    clientName: string,
    redirectUri: string | undefined,
    uid: string,
    csrf: string,
  ) {
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const resourceScopes = Object.entries(missing.missingResourceScopes ?? {});
    const resource =
      resourceScopes[0]?.[0] ??
      String((details.params as Record<string, unknown>).resource ?? resources.defaultResource);
    const newScopes = [
      ...new Set([...(missing.missingOIDCScope ?? []), ...resourceScopes.flatMap(([, s]) => s)]),
    ];
    // Consent asked for again (the client sent prompt=consent) with nothing new: list what it gets.
    const requested = String((details.params as Record<string, unknown>).scope ?? '')
      .split(' ')
      .filter((scope) => scope && scope !== 'openid');
    const scopes = newScopes.length > 0 ? newScopes : requested;
    const target = redirectUri ? URL.parse(redirectUri) : null;
    return {
      action: pageUrl(uid, 'consent'),
      csrf,
      clientName,
      redirectHost: target
        ? target.protocol.startsWith('http')
          ? target.host
          : `${target.protocol}//${target.host}`
        : 'the application',
      resource,
      scopes: scopes.map((scope) => ({ scope, description: resources.describe(scope) })),
      username: details.session?.accountId ?? '',
    };
  }
}
