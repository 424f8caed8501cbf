import { discoverAuthorizationServer } from './discovery.js';
import { ConfigurationError, TemporarilyUnavailableError } from './errors.js';
import type { FetchLike } from './internal/fetch-json.js';
import { retryingOnce } from './internal/retrying-once.js';
import { createIntrospectionVerifier, type IntrospectionVerifierOptions } from './introspection.js';
import { createJwtVerifier, type JwtVerifierOptions } from './jwt.js';
import type { AuthLogger } from './logger.js';
import type { TokenVerifier } from './token.js';

type Shared = 'issuer' | 'audience' | 'fetch' | 'timeoutMs' | 'logger' | 'now';

/** JWT mode: tokens are verified locally against the issuer's JWKS. */
export type JwtVerification = { readonly mode: 'jwt' } & Omit<
  JwtVerifierOptions,
  Shared | 'resolveJwksUri'
>;

/** Introspection mode: every token (or cache miss) is checked at the issuer's RFC 7662 endpoint. */
export type IntrospectionVerification = { readonly mode: 'introspection' } & Omit<
  IntrospectionVerifierOptions,
  Shared | 'resolveIntrospectionEndpoint'
>;

export interface TokenVerifierOptions {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly verification: JwtVerification | IntrospectionVerification;
  readonly fetch?: FetchLike | undefined;
  readonly timeoutMs?: number | undefined;
  readonly logger?: AuthLogger | undefined;
  readonly now?: (() => number) | undefined;
  /** Longest wait between discovery attempts after failures (1 s, doubling); default 30 s. */
  readonly discoveryRetryMs?: number | undefined;
}

/**
 * Builds the verifier the configuration asks for. Endpoints that are not configured explicitly
 * are discovered from the issuer on first use (and retried after a failure).
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const metadata = retryingOnce(
    () =>
      discoverAuthorizationServer(options.issuer, {
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
      }),
    options.discoveryRetryMs ?? 30_000,
    now,
  );
  const shared = {
    issuer: options.issuer,
    audience: options.audience,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
    now,
  };
  const { verification } = options;
  switch (verification.mode) {
    case 'jwt': {
      const { mode: _mode, ...jwt } = verification;
      return createJwtVerifier({
        ...jwt,
        ...shared,
        resolveJwksUri: async () => {
          const { jwks_uri } = await metadata();
          if (!jwks_uri) {
            throw new TemporarilyUnavailableError(
              'discovery_failed',
              `${options.issuer} metadata has no jwks_uri`,
            );
          }
          return jwks_uri;
        },
      });
    }
    case 'introspection': {
      const { mode: _mode, ...introspection } = verification;
      return createIntrospectionVerifier({
        ...introspection,
        ...shared,
        resolveIntrospectionEndpoint: async () => {
          const { introspection_endpoint } = await metadata();
          if (!introspection_endpoint) {
            throw new TemporarilyUnavailableError(
              'discovery_failed',
              `${options.issuer} metadata has no introspection_endpoint`,
            );
          }
          return introspection_endpoint;
        },
      });
    }
    default:
      throw new ConfigurationError(
        `verification.mode must be "jwt" or "introspection", got ${JSON.stringify((verification as { mode: unknown }).mode)}`,
      );
  }
}
