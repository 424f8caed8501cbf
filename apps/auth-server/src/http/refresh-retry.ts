import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

/**
 * Makes a public client's refresh request safe to retry. Refresh tokens rotate on every use and a
 * rotated-out token presented again revokes the whole grant (reuse detection). A client whose
 * response was lost (timeout, dropped connection, app killed mid-request) retries with the old
 * token and would lose its session. For `windowMs` after a refresh, the same request from the same
 * client gets the same answer again, until the new refresh token is used; after that, or after the
 * window, reuse detection applies as before. Answers are kept in memory only, keyed by the SHA-256
 * of the refresh token, and never logged.
 */

interface Answer {
  readonly clientId: string;
  readonly resource: string;
  readonly scope: string;
  readonly body: unknown;
  readonly expiresAt: number;
  readonly newTokenKey: string | undefined;
}

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
const joined = (value: unknown) =>
  Array.isArray(value) ? value.join(' ') : typeof value === 'string' ? value : '';

export class RefreshRetryCache {
  readonly #answers = new Map<string, Answer>();
  /** New refresh token (hashed) -> the entry that issued it, so using it closes the window. */
  readonly #issuedBy = new Map<string, string>();
  readonly #windowMs: number;

  constructor(windowMs = 30_000) {
    this.#windowMs = windowMs;
  }

  /** Listens to oidc-provider's successful token responses. */
  attach(provider: Provider): void {
    provider.on('grant.success', (ctx) => {
      const params = ctx.oidc.params as Record<string, unknown> | undefined;
      const client = ctx.oidc.client;
      if (params?.grant_type !== 'refresh_token' || client?.clientAuthMethod !== 'none') return;
      const oldToken = typeof params.refresh_token === 'string' ? params.refresh_token : undefined;
      if (!oldToken) return;
      const oldKey = hash(oldToken);
      // This token was itself issued by a cached refresh: it is in use now, so that retry window closes.
      const parent = this.#issuedBy.get(oldKey);
      if (parent) {
        this.#answers.delete(parent);
        this.#issuedBy.delete(oldKey);
      }
      const body = ctx.body as { refresh_token?: unknown } | undefined;
      const newTokenKey =
        typeof body?.refresh_token === 'string' ? hash(body.refresh_token) : undefined;
      this.#sweep();
      this.#answers.set(oldKey, {
        clientId: client.clientId,
        resource: joined(params.resource),
        scope: joined(params.scope),
        body,
        expiresAt: Date.now() + this.#windowMs,
        newTokenKey,
      });
      if (newTokenKey) this.#issuedBy.set(newTokenKey, oldKey);
    });
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
      const answer = token ? this.#answers.get(hash(token)) : undefined;
      if (
        !answer ||
        answer.expiresAt < Date.now() ||
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

  #sweep(): void {
    const now = Date.now();
    for (const [key, answer] of this.#answers) {
      if (answer.expiresAt >= now) break;
      this.#answers.delete(key);
      if (answer.newTokenKey) this.#issuedBy.delete(answer.newTokenKey);
    }
  }
}
