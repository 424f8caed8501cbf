import { z } from 'zod';
import { ConfigurationError, InvalidTokenError, TemporarilyUnavailableError } from './errors.js';
import { checkAudience, checkTimes, toVerifiedToken } from './internal/claims.js';
import { type FetchLike, fetchJson } from './internal/fetch-json.js';
import { parseOptions } from './internal/options.js';
import { TtlCache } from './internal/ttl-cache.js';
import type { AuthLogger } from './logger.js';
import { createAudienceMatcher } from './resource.js';
import type { TokenVerifier, VerifiedToken } from './token.js';

export interface IntrospectionVerifierOptions {
  /** The one issuer trusted; a response with another `iss` is refused. */
  readonly issuer: string;
  /** Accepted `aud` values, as in JWT mode; a response without `aud` is refused. */
  readonly audience: string | readonly string[];
  /** RFC 7662 endpoint; default: `introspection_endpoint` from discovery. */
  readonly introspectionEndpoint?: string | undefined;
  /** Resolves the endpoint when none is configured (wired to discovery). */
  readonly resolveIntrospectionEndpoint?: (() => Promise<string>) | undefined;
  readonly clientId: string;
  readonly clientSecret: string;
  /** How this resource server authenticates to the endpoint; default `client_secret_basic`. */
  readonly clientAuthMethod?: 'client_secret_basic' | 'client_secret_post' | undefined;
  /** Upper bound on how long an answer is reused; never past the token's `exp`. Default 30 s; 0 disables. */
  readonly cacheTtlSec?: number | undefined;
  /** Entries kept at most; default 10000. */
  readonly cacheMaxEntries?: number | undefined;
  /** Told whether each token's answer was found in that cache (metrics: its hit rate). */
  readonly onCacheLookup?: ((hit: boolean) => void) | undefined;
  readonly clockToleranceSec?: number | undefined;
  readonly maxTokenBytes?: number | undefined;
  readonly fetch?: FetchLike | undefined;
  readonly timeoutMs?: number | undefined;
  readonly logger?: AuthLogger | undefined;
  readonly now?: (() => number) | undefined;
}

const optionsSchema = z.object({
  issuer: z.url({ protocol: /^https?$/ }),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  introspectionEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  clientId: z.string().min(1, 'is required for introspection'),
  clientSecret: z.string().min(1, 'is required for introspection'),
  clientAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  cacheTtlSec: z.number().min(0).max(3600).optional(),
  cacheMaxEntries: z.number().int().min(1).optional(),
  clockToleranceSec: z.number().min(0).max(300).optional(),
  maxTokenBytes: z.number().int().min(16).optional(),
});

/** `token_type` / Keycloak `typ` values of tokens that may be used at a resource server. */
const ACCESS_TOKEN_TYPES = new Set(['access_token', 'bearer', 'dpop']);

type CachedAnswer = { readonly token: VerifiedToken } | { readonly refused: InvalidTokenError };

/**
 * Creates an RFC 7662 introspection verifier, for opaque tokens and for authorization servers
 * such as Keycloak. The answer is checked like a JWT: `active` must be `true`, `iss` (when
 * present) must be the issuer, `aud` must contain this resource, `exp`/`nbf` are honoured, refresh
 * and ID tokens are refused. Answers are cached briefly, keyed by the SHA-256 of the token, never
 * past the token's `exp`; concurrent requests for one token share one introspection call.
 */
export function createIntrospectionVerifier(options: IntrospectionVerifierOptions): TokenVerifier {
  parseOptions(optionsSchema, options, 'Introspection verifier');
  if (!options.introspectionEndpoint && !options.resolveIntrospectionEndpoint) {
    throw new ConfigurationError(
      'Introspection verifier needs introspectionEndpoint or discovery of the issuer',
    );
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  const leeway = options.clockToleranceSec ?? 10;
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  const cacheTtlMs = (options.cacheTtlSec ?? 30) * 1000;
  const expected =
    typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  const matchesAudience = createAudienceMatcher(expected);
  const resolveEndpoint = options.introspectionEndpoint
    ? () => Promise.resolve(options.introspectionEndpoint as string)
    : (options.resolveIntrospectionEndpoint as () => Promise<string>);
  const cache = new TtlCache<CachedAnswer>(options.cacheMaxEntries ?? 10_000, now);
  const inFlight = new Map<string, Promise<CachedAnswer>>();
  const authorization = basicAuthorization(options.clientId, options.clientSecret);
  const usePost = options.clientAuthMethod === 'client_secret_post';

  const introspect = async (token: string): Promise<CachedAnswer> => {
    const endpoint = await resolveEndpoint();
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    if (usePost) {
      form.set('client_id', options.clientId);
      form.set('client_secret', options.clientSecret);
    }
    let body: Record<string, unknown>;
    try {
      ({ body } = await fetchJson(endpoint, {
        fetch: fetchImpl,
        timeoutMs,
        maxBytes: 64 * 1024,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(usePost ? {} : { authorization }),
        },
        body: form.toString(),
      }));
    } catch (error) {
      throw new TemporarilyUnavailableError(
        'introspection_failed',
        `introspection failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    try {
      return { token: checkAnswer(body) };
    } catch (error) {
      if (error instanceof InvalidTokenError) return { refused: error };
      throw error;
    }
  };

  const checkAnswer = (answer: Record<string, unknown>): VerifiedToken => {
    if (answer.active !== true) {
      throw new InvalidTokenError('token_inactive', 'introspection answered active: false');
    }
    if (answer.iss !== undefined && answer.iss !== options.issuer) {
      throw new InvalidTokenError(
        'issuer_mismatch',
        `introspection iss ${JSON.stringify(answer.iss)} is not ${JSON.stringify(options.issuer)}`,
      );
    }
    const type = answer.token_type ?? answer.typ;
    if (
      type !== undefined &&
      !(typeof type === 'string' && ACCESS_TOKEN_TYPES.has(type.toLowerCase()))
    ) {
      throw new InvalidTokenError(
        'unsupported_token_type',
        `introspected token is a ${JSON.stringify(type)}, not an access token`,
      );
    }
    checkTimes(answer, Math.floor(now() / 1000), leeway, false);
    checkAudience(answer, matchesAudience, expected);
    return toVerifiedToken(answer, options.issuer);
  };

  return {
    mode: 'introspection',
    warm: async () => {
      await resolveEndpoint();
    },
    async verify(token) {
      if (token.length > maxTokenBytes) {
        throw new InvalidTokenError(
          'token_too_large',
          `token is ${token.length} bytes, limit ${maxTokenBytes}`,
        );
      }
      const key = cacheTtlMs > 0 ? await sha256(token) : undefined;
      let answer = key === undefined ? undefined : cache.get(key);
      if (key !== undefined) options.onCacheLookup?.(answer !== undefined);
      if (!answer) {
        let pending = key === undefined ? undefined : inFlight.get(key);
        if (!pending) {
          pending = introspect(token);
          if (key !== undefined) {
            inFlight.set(key, pending);
            pending.then(
              (result) => {
                inFlight.delete(key);
                cache.set(key, result, cacheLifetime(result));
              },
              () => inFlight.delete(key),
            );
          }
        }
        answer = await pending;
      }
      if ('refused' in answer) throw answer.refused;
      // A cached answer may outlive the token by less than the TTL; check the clock again.
      checkTimes(answer.token.claims, Math.floor(now() / 1000), leeway, false);
      return answer.token;
    },
  };

  function cacheLifetime(answer: CachedAnswer): number {
    if ('refused' in answer) return cacheTtlMs;
    const { expiresAt } = answer.token;
    if (expiresAt === undefined) return cacheTtlMs;
    return Math.max(0, Math.min(cacheTtlMs, expiresAt * 1000 - now()));
  }
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before base64. */
function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  const credentials = `${encode(clientId)}:${encode(clientSecret)}`;
  return `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(credentials)))}`;
}

async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}
