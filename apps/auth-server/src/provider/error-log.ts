import type { Logger } from '@gatehouse/logging';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * One log line per OAuth error answered to a client: the client gets the generic message
 * (`client authentication failed`), the operator gets why (oidc-provider's `error_detail`: which
 * check failed, e.g. a jwks_uri that could not be fetched), with the request id the client saw.
 * Never a token, code or secret: oidc-provider's details name checks and ids, not credentials.
 */
const ERROR_EVENTS = [
  'authorization.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'pushed_authorization_request.error',
  'registration_create.error',
  'registration_read.error',
  'registration_update.error',
  'registration_delete.error',
  'userinfo.error',
  'end_session.error',
] as const;

interface OAuthError extends Error {
  readonly error?: string;
  readonly error_detail?: string;
  readonly status?: number;
}

export function logOAuthErrors(provider: Provider, logger: Logger): void {
  for (const event of ERROR_EVENTS) {
    // One listener shape for every event of the list (their typed overloads differ per event).
    (provider.on as (name: string, listener: (...args: never[]) => void) => Provider)(
      event,
      (ctx: KoaContextWithOIDC, error: OAuthError) => {
        logger.info(
          {
            requestId: ctx.response.get('x-request-id') || undefined,
            event: event.replace('.error', ''),
            error: error.error ?? error.name,
            ...(error.error_detail ? { detail: error.error_detail } : {}),
            clientId: ctx.oidc?.client?.clientId,
            status: error.status,
          },
          `${event.replace('.error', '')} refused: ${error.error ?? error.message}`,
        );
      },
    );
  }
}
