import { z } from 'zod';
import type { AuthInfo } from './auth-info.js';
import { parseAuthorizationHeader } from './authorization-header.js';
import { createDpopProofVerifier, DEFAULT_DPOP_ALGORITHMS, type DpopOptions } from './dpop.js';
import { type AuthFailure, createErrorResponder, type ResponseParts } from './error-response.js';
import {
  AuthError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
} from './errors.js';
import type { FetchLike } from './internal/fetch-json.js';
import { parseOptions } from './internal/options.js';
import { type AuthLogger, silentLogger } from './logger.js';
import {
  buildProtectedResourceMetadata,
  createMetadataResponder,
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataUrls,
  protectedResourceMetadataUrls,
} from './metadata.js';
import { canonicalizeResourceUri } from './resource.js';
import { createScopePolicy, isScopeToken, type ScopeHierarchy } from './scopes.js';
import type { TokenVerifier } from './token.js';
import {
  createTokenVerifier,
  type IntrospectionVerification,
  type JwtVerification,
} from './verifier.js';

export type { AuthFailure, ResponseParts } from './error-response.js';

/** A request as the core sees it; each adapter builds one from its framework's request. */
export interface AuthRequest {
  readonly method: string;
  /** Path and query (resolved against the resource's origin) or the absolute URL the client used. */
  readonly url: string;
  /** Every `Authorization` header value, unjoined, so duplicates can be refused. */
  readonly authorization: readonly string[];
  /** Every `DPoP` header value. */
  readonly dpop?: readonly string[] | undefined;
  /** Parsed form body, when the framework already parsed one; checked for `access_token`. */
  readonly bodyParams?: URLSearchParams | Readonly<Record<string, unknown>> | undefined;
  /** An id the app already assigned to this request (e.g. from `X-Request-Id`); else one is made. */
  readonly correlationId?: string | undefined;
}

export type AuthOutcome = { readonly ok: true; readonly authInfo: AuthInfo } | AuthFailure;

export interface ResourceServerOptions {
  /** This server's resource URI, e.g. `http://localhost:3000/mcp`; published and enforced canonical. */
  readonly resource: string;
  /** The authorization server whose tokens are accepted (exact issuer identifier). */
  readonly issuer: string;
  /** Accepted `aud` values; default: the resource. */
  readonly audience?: string | readonly string[] | undefined;
  /** Issuers published in the metadata; default `[issuer]`. */
  readonly authorizationServers?: readonly string[] | undefined;
  readonly verification: JwtVerification | IntrospectionVerification;
  /** Scopes published in the metadata (for basic use). */
  readonly scopesSupported?: readonly string[] | undefined;
  /** Scopes every request needs; also the `scope` of the 401 challenge. */
  readonly requiredScopes?: readonly string[] | undefined;
  /** A broader scope implies narrower ones, e.g. `{ 'mcp:admin': ['mcp:tools'] }`. */
  readonly scopeHierarchy?: ScopeHierarchy | undefined;
  readonly resourceName?: string | undefined;
  readonly resourceDocumentation?: string | undefined;
  readonly dpop?: DpopOptions | undefined;
  readonly logger?: AuthLogger | undefined;
  readonly fetch?: FetchLike | undefined;
  readonly timeoutMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  /** Use this verifier instead of building one from `verification` (custom token formats). */
  readonly verifier?: TokenVerifier | undefined;
}

/** Everything a protected resource needs: authentication, scope checks, challenges and metadata. */
export interface ResourceServer {
  readonly resource: string;
  readonly metadata: ProtectedResourceMetadata;
  readonly metadataUrls: ProtectedResourceMetadataUrls;
  readonly verifier: TokenVerifier;
  /** Authenticates a request; `requiredScopes` adds to the configured ones for this operation. */
  authenticate(
    request: AuthRequest,
    options?: { requiredScopes?: readonly string[] },
  ): Promise<AuthOutcome>;
  /** Per-operation step-up check: a 403 `insufficient_scope` failure, or `undefined` when allowed. */
  checkScopes(authInfo: AuthInfo, requiredScopes: readonly string[]): AuthFailure | undefined;
  /** Answers a metadata request (either well-known path), or `undefined` if `path` is not one. */
  metadataResponse(method: string, path: string): ResponseParts | undefined;
}

const scopeList = z.array(z.string().refine(isScopeToken, 'is not a valid scope token')).optional();
const optionsSchema = z.object({
  resource: z.string(),
  issuer: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }),
  scopesSupported: scopeList,
  requiredScopes: scopeList,
});

/**
 * Creates a {@link ResourceServer}. All options are checked here, once; a bad option throws a
 * `ConfigurationError` naming it.
 *
 * @example
 * const rs = createResourceServer({
 *   resource: 'http://localhost:3000/mcp',
 *   issuer: 'http://localhost:4000',
 *   verification: { mode: 'jwt' },
 *   scopesSupported: ['mcp:tools'],
 * });
 * const outcome = await rs.authenticate({ method: 'POST', url: '/mcp', authorization: [header] });
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  parseOptions(optionsSchema, options, 'Resource server');
  const resource = canonicalizeResourceUri(options.resource, 'resource');
  const logger = options.logger ?? silentLogger;
  const origin = new URL(resource).origin;
  const dpopAlgorithms = [...(options.dpop?.algorithms ?? DEFAULT_DPOP_ALGORITHMS)];
  const verifier =
    options.verifier ??
    createTokenVerifier({
      issuer: options.issuer,
      audience: options.audience ?? resource,
      verification: options.verification,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      logger,
      now: options.now,
    });
  const verifyDpop = createDpopProofVerifier({ now: options.now, ...options.dpop });
  const scopePolicy = createScopePolicy(options.scopeHierarchy);
  const baseScopes = [...(options.requiredScopes ?? [])];
  const metadataUrls = protectedResourceMetadataUrls(resource);
  const metadata = buildProtectedResourceMetadata({
    resource,
    authorizationServers: options.authorizationServers ?? [options.issuer],
    scopesSupported: options.scopesSupported,
    resourceName: options.resourceName,
    resourceDocumentation: options.resourceDocumentation,
    dpopSigningAlgValuesSupported: dpopAlgorithms,
  });
  const metadataResponse = createMetadataResponder(metadata, metadataUrls);
  const fail = createErrorResponder({
    resourceMetadata: metadataUrls.pathInserted,
    dpopAlgorithms,
    logger,
  });

  const checkScopes = (
    authInfo: AuthInfo,
    required: readonly string[],
    correlationId: string = crypto.randomUUID(),
  ): AuthFailure | undefined => {
    const missing = scopePolicy.missing(authInfo.scopes, required);
    if (missing.length === 0) return undefined;
    const error = new InsufficientScopeError(
      [...new Set(required)],
      `token scopes [${authInfo.scopes.join(' ')}] lack [${missing.join(' ')}]`,
    );
    return fail(error, required, correlationId);
  };

  return {
    resource,
    metadata,
    metadataUrls,
    verifier,
    checkScopes: (authInfo, required) => checkScopes(authInfo, required),
    metadataResponse,
    async authenticate(request, authenticateOptions) {
      // Made only when a request fails: the success path stays free of it.
      const correlationId = () => request.correlationId ?? crypto.randomUUID();
      const required = authenticateOptions?.requiredScopes
        ? [...baseScopes, ...authenticateOptions.requiredScopes]
        : baseScopes;
      try {
        // Parsing the URL costs more than this check, and most requests have no query at all.
        if (
          request.url.includes('access_token') &&
          new URL(request.url, origin).searchParams.has('access_token')
        ) {
          throw new InvalidRequestError('token_in_query', 'access_token sent in the query string');
        }
        if (hasAccessToken(request.bodyParams)) {
          throw new InvalidRequestError('token_in_body', 'access_token sent in the request body');
        }
        const credentials = parseAuthorizationHeader(request.authorization);
        if (credentials.kind !== 'token')
          return fail(undefined, required, correlationId(), request);
        const token = await verifier.verify(credentials.token);
        if (token.dpopJkt !== undefined) {
          if (credentials.scheme !== 'DPoP') {
            throw new InvalidTokenError(
              'dpop_bound_token_as_bearer',
              'DPoP-bound token presented as a bearer token',
            );
          }
          await verifyDpop({
            proofs: request.dpop ?? [],
            method: request.method,
            url: new URL(request.url, origin).href,
            accessToken: credentials.token,
            expectedJkt: token.dpopJkt,
          });
        } else if (credentials.scheme === 'DPoP') {
          throw new InvalidTokenError(
            'token_not_dpop_bound',
            'DPoP scheme used with a token that is not DPoP-bound',
          );
        }
        const authInfo: AuthInfo = {
          token: credentials.token,
          clientId: token.clientId,
          scopes: token.scopes,
          ...(token.expiresAt !== undefined ? { expiresAt: token.expiresAt } : {}),
          resource: new URL(resource),
          resourceMetadataUrl: metadataUrls.pathInserted,
          extra: {
            subject: token.subject,
            issuer: token.issuer,
            tokenType: credentials.scheme,
            claims: token.claims,
          },
        };
        const denied = scopePolicy.missing(authInfo.scopes, required).length > 0;
        return denied
          ? (checkScopes(authInfo, required, correlationId()) as AuthFailure)
          : { ok: true, authInfo };
      } catch (error) {
        if (error instanceof AuthError) return fail(error, required, correlationId(), request);
        throw error;
      }
    },
  };
}

function hasAccessToken(params: AuthRequest['bodyParams']): boolean {
  if (!params) return false;
  if (params instanceof URLSearchParams) return params.has('access_token');
  return Object.hasOwn(params, 'access_token');
}
