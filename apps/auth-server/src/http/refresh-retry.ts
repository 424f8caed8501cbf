import { createHash } from 'node:crypto';
import type { Logger } from '@gatehouse/logging';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Counters } from '../store/store.js';

/**
 * Makes a public client's refresh request safe to retry. Refresh tokens rotate on every use and a
 * rotated-out token presented again revokes the whole grant (reuse detection). A client whose
 * response was lost (timeout, dropped connection, app killed mid-request) retries with the old
 * token and would lose its session. For `windowMs` after a refresh, the same request from the same
 * client gets the same answer again, until the new refresh token is used; after that, or after the
 * window, reuse detection applies as before. Answers live in the store (shared by every instance on
 * Redis, so a retry may land on any of them), keyed by the SHA-256 of the refresh token, and are
 * never logged.
 */

interface Answer {
  readonly clientId: string;
  readonly resource: string;
  readonly scope: string;
  readonly body: unknown;
}

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
const joined = (value: unknown) =>
  Array.isArray(value) ? value.join(' ') : typeof value === 'string' ? value : '';
const answerKey = (tokenHash: string) => `refresh-retry:answer:${tokenHash}`;
const parentKey = (tokenHash: string) => `refresh-retry:issued-by:${tokenHash}`;

export class RefreshRetryCache {
  readonly #counters: Counters;
  readonly #logger: Logger;
  readonly #windowMs: number;

  constructor(counters: Counters, logger: Logger, windowMs = 30_000) {
    this.#counters = counters;
    this.#logger = logger;
    this.#windowMs = windowMs;
  }

  /**
   * Records successful refresh responses from inside oidc-provider's middleware stack, after the
   * token endpoint ran and before the response is sent: the answer is in the store before the
   * client can retry, whichever instance the retry reaches.
   */
  attach(provider: Provider): void {
    provider.use(async (ctx, next) => {
      await next();
      const oidc = ctx.oidc as
        | {
            route?: string;
            params?: Record<string, unknown>;
            client?: { clientId: string; clientAuthMethod?: string };
          }
        | undefined;
      const params = oidc?.params;
      const client = oidc?.client;
      if (
        oidc?.route !== 'token' ||
        ctx.status !== 200 ||
        params?.grant_type !== 'refresh_token' ||
        client?.clientAuthMethod !== 'none'
      )
        return;
      const oldToken = typeof params.refresh_token === 'string' ? params.refresh_token : undefined;
      if (!oldToken) return;
      const body = ctx.body as { refresh_token?: unknown } | undefined;
      const answer: Answer = {
        clientId: client.clientId,
        resource: joined(params.resource),
        scope: joined(params.scope),
        body,
      };
      const newToken = typeof body?.refresh_token === 'string' ? body.refresh_token : undefined;
      try {
        await this.#remember(hash(oldToken), answer, newToken ? hash(newToken) : undefined);
      } catch (error) {
        // The refresh itself succeeded; only its retry safety is lost.
        this.#logger.warn(
          {
            requestId: ctx.response.get('x-request-id'),
            err: { message: (error as Error).message },
          },
          'refresh retry cache write failed',
        );
      }
    });
  }

  async #remember(oldKey: string, answer: Answer, newKey: string | undefined): Promise<void> {
    // This token was itself issued by a cached refresh: it is in use now, so that retry window closes.
    const parent = await this.#counters.getValue(parentKey(oldKey));
    if (parent) {
      await this.#counters.deleteValue(answerKey(parent));
      await this.#counters.deleteValue(parentKey(oldKey));
    }
    await this.#counters.putValue(answerKey(oldKey), JSON.stringify(answer), this.#windowMs);
    if (newKey) await this.#counters.putValue(parentKey(newKey), oldKey, this.#windowMs);
  }

  /** koa middleware, after the body has been parsed into `ctx.state.oauthParams`. */
  middleware(tokenPath: string) {
    return async (ctx: Context, next: Next): Promise<void> => {
      const params = ctx.state.oauthParams as URLSearchParams | undefined;
      if (
        ctx.path !== tokenPath ||
        !params ||
        params.get('grant_type') !== 'refresh_token' ||
        ctx.get('authorization')
      ) {
        return next();
      }
      const token = params.get('refresh_token');
      const stored = token ? await this.#counters.getValue(answerKey(hash(token))) : undefined;
      const answer = stored ? (JSON.parse(stored) as Answer) : undefined;
      if (
        !answer ||
        params.has('client_secret') ||
        params.get('client_id') !== answer.clientId ||
        params.getAll('resource').join(' ') !== answer.resource ||
        (params.get('scope') ?? '') !== answer.scope
      ) {
        return next();
      }
      ctx.set('cache-control', 'no-store');
      ctx.status = 200;
      ctx.body = answer.body;
    };
  }
}
