import {
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyResult,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import { z } from 'zod';
import { AuthError, ConfigurationError, InvalidTokenError } from './errors.js';
import { checkAudience, checkTimes, toVerifiedToken } from './internal/claims.js';
import type { FetchLike } from './internal/fetch-json.js';
import { parseOptions } from './internal/options.js';
import { createJwksCache, createStaticJwks, type JwksCache } from './jwks.js';
import type { AuthLogger } from './logger.js';
import { createAudienceMatcher } from './resource.js';
import type { TokenVerifier, VerifiedToken } from './token.js';

/** Asymmetric JWS algorithms this package can verify; HMAC and `none` are never accepted. */
export const SUPPORTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** The default allow-list: what oidc-provider, Keycloak and the major clouds sign with. */
export const DEFAULT_ALGORITHMS: readonly SupportedAlgorithm[] = [
  'RS256',
  'PS256',
  'ES256',
  'ES384',
  'EdDSA',
  'Ed25519',
];

export interface JwtVerifierOptions {
  /** The one issuer trusted, compared exactly (`https://as/` and `https://as` differ). */
  readonly issuer: string;
  /** Accepted `aud` values: this resource's URI (compared canonicalised), or other exact values. */
  readonly audience: string | readonly string[];
  /** Where the signing keys are; default: `jwks_uri` from the issuer's discovered metadata. */
  readonly jwksUri?: string | undefined;
  /** A fixed key set instead of a JWKS URL (tests, air-gapped deployments). */
  readonly jwks?: JSONWebKeySet | undefined;
  /** Signature algorithm allow-list; default {@link DEFAULT_ALGORITHMS}. */
  readonly algorithms?: readonly SupportedAlgorithm[] | undefined;
  /**
   * Accept `typ: JWT` or no `typ` besides RFC 9068's `at+jwt`. Needed for Keycloak, whose access
   * tokens say `typ: JWT`; off by default because it also lets other JWTs of the issuer through
   * to the audience check.
   */
  readonly allowPlainJwt?: boolean | undefined;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds; default 10. */
  readonly clockToleranceSec?: number | undefined;
  /** Longest token accepted, in bytes; default 8192. */
  readonly maxTokenBytes?: number | undefined;
  readonly fetch?: FetchLike | undefined;
  /** HTTP time limit for discovery and JWKS requests; default 5000 ms. */
  readonly timeoutMs?: number | undefined;
  /** JWKS background refresh age; default 10 minutes. */
  readonly jwksMaxAgeMs?: number | undefined;
  /** Minimum time between JWKS fetches; default 30 s. */
  readonly jwksCooldownMs?: number | undefined;
  readonly logger?: AuthLogger | undefined;
  /** Clock in milliseconds; default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Resolves the JWKS URL when neither `jwksUri` nor `jwks` is set (wired to discovery). */
  readonly resolveJwksUri?: (() => Promise<string>) | undefined;
  /**
   * Verified tokens remembered (by their exact bytes) so a token reused on every request is not
   * re-verified each time; time claims are still checked on every use, and the cache is dropped
   * whenever the JWKS changes. Default 1000 entries; 0 disables.
   */
  readonly verifiedTokenCacheSize?: number | undefined;
  /** Told whether each token was found in that cache (metrics: its hit rate). */
  readonly onCacheLookup?: ((hit: boolean) => void) | undefined;
}

const optionsSchema = z.object({
  issuer: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  algorithms: z
    .array(z.string())
    .min(1)
    .refine(
      (algs) => algs.every((alg) => (SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)),
      {
        error: `may only contain asymmetric algorithms (${SUPPORTED_ALGORITHMS.join(', ')}); never "none" or HS*`,
      },
    )
    .optional(),
  clockToleranceSec: z.number().min(0).max(300).optional(),
  maxTokenBytes: z
    .number()
    .int()
    .min(256)
    .max(1024 * 1024)
    .optional(),
});

// The signature may be empty here so that `alg: none` is reported as the algorithm it is.
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Creates a JWT access-token verifier (RFC 9068, with the relaxations Keycloak needs behind
 * `allowPlainJwt`). Checks, in order: size, compact shape, `alg` allow-list, `typ`, signature with a
 * cached JWKS key, `iss`, `exp`/`nbf`/`iat` with leeway, `aud`, RFC 9068 required claims, `cnf`.
 *
 * @example
 * const verifier = createJwtVerifier({ issuer: 'http://localhost:4000', audience: 'http://localhost:3000/mcp' });
 * const { subject, scopes } = await verifier.verify(token);
 */
export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  parseOptions(optionsSchema, options, 'JWT verifier');
  if (!options.jwks && !options.jwksUri && !options.resolveJwksUri) {
    throw new ConfigurationError('JWT verifier needs jwksUri, jwks, or discovery of the issuer');
  }
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
  const allowed = new Set<string>(algorithms);
  const expected =
    typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  const matchesAudience = createAudienceMatcher(expected);
  const leeway = options.clockToleranceSec ?? 10;
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  const now = options.now ?? Date.now;
  const keys: JwksCache = options.jwks
    ? createStaticJwks(options.jwks)
    : createJwksCache({
        jwksUri: options.jwksUri ?? (options.resolveJwksUri as () => Promise<string>),
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        maxAgeMs: options.jwksMaxAgeMs,
        cooldownMs: options.jwksCooldownMs,
        logger: options.logger,
        now,
      });
  const getKey = keys.getKey.bind(keys);
  const cacheSize = options.verifiedTokenCacheSize ?? 1000;
  const verified = new Map<string, VerifiedToken>();
  let verifiedVersion = -1;

  return {
    mode: 'jwt',
    warm: () => keys.refresh(),
    async verify(token) {
      if (cacheSize > 0) {
        if (verifiedVersion !== keys.version) {
          verified.clear();
          verifiedVersion = keys.version;
        }
        const hit = verified.get(token);
        options.onCacheLookup?.(hit !== undefined);
        if (hit) {
          checkTimes(hit.claims, Math.floor(now() / 1000), leeway, true);
          return hit;
        }
      }
      // Tokens are ASCII when well formed, so length is the byte count; anything else fails below.
      if (token.length > maxTokenBytes) {
        throw new InvalidTokenError(
          'token_too_large',
          `token is ${token.length} bytes, limit ${maxTokenBytes}`,
        );
      }
      if (!JWS_COMPACT.test(token)) {
        throw new InvalidTokenError('malformed_token', 'token is not a signed compact JWS');
      }
      const header = decodeHeader(token);
      if (typeof header.alg !== 'string' || !allowed.has(header.alg)) {
        throw new InvalidTokenError(
          'unsupported_algorithm',
          `token alg ${JSON.stringify(header.alg)} is not in the allow-list ${algorithms.join(',')}`,
        );
      }
      checkTyp(header.typ, options.allowPlainJwt === true);
      const nowMs = now();
      const verifyOptions = {
        algorithms,
        issuer: options.issuer,
        clockTolerance: leeway,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp'],
      };
      let result: JWTVerifyResult<JWTPayload>;
      try {
        // Resolving the key here rather than handing jose a resolver function saves ~7 µs a token.
        result = await jwtVerify(token, await getKey(header), verifyOptions);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') {
          throw mapJoseError(error);
        }
        result = await verifyWithEachKey(token, error as AsyncIterable<CryptoKey>, verifyOptions);
      }
      const claims = result.payload as Record<string, unknown>;
      checkTimes(claims, Math.floor(nowMs / 1000), leeway, true);
      checkAudience(claims, matchesAudience, expected);
      if (isAccessTokenTyp(header.typ)) {
        // RFC 9068 §2.2: these are required in a JWT access token.
        for (const claim of ['sub', 'client_id', 'iat', 'jti']) {
          if (claims[claim] === undefined) {
            throw new InvalidTokenError('missing_claim', `at+jwt token has no ${claim} claim`);
          }
        }
      }
      const accepted = toVerifiedToken(claims, options.issuer);
      if (cacheSize > 0 && verifiedVersion === keys.version) {
        if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
        verified.set(token, accepted);
      }
      return accepted;
    },
  };
}

function decodeHeader(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch (cause) {
    throw new InvalidTokenError('malformed_token', 'token header is not base64url JSON', { cause });
  }
}

/** `at+jwt` and `application/at+jwt`, case-insensitively (RFC 9068 §2.1, RFC 8725 §3.11). */
function isAccessTokenTyp(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const normalized = typ.toLowerCase();
  return normalized === 'at+jwt' || normalized === 'application/at+jwt';
}

function checkTyp(typ: unknown, allowPlainJwt: boolean): void {
  if (isAccessTokenTyp(typ)) return;
  if (
    allowPlainJwt &&
    (typ === undefined || (typeof typ === 'string' && typ.toUpperCase() === 'JWT'))
  ) {
    return;
  }
  throw new InvalidTokenError(
    'unsupported_token_type',
    `token typ ${JSON.stringify(typ)} is not at+jwt${allowPlainJwt ? ' or JWT' : ' (plain JWT not allowed)'}`,
  );
}

async function verifyWithEachKey(
  token: string,
  candidates: AsyncIterable<CryptoKey>,
  verifyOptions: Parameters<typeof jwtVerify>[2],
): Promise<JWTVerifyResult<JWTPayload>> {
  for await (const key of candidates) {
    try {
      return await jwtVerify(token, key, verifyOptions);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') continue;
      throw mapJoseError(error);
    }
  }
  throw new InvalidTokenError(
    'invalid_signature',
    'no key with the token kid verifies its signature',
  );
}

/** Turns jose's errors into this package's, keeping jose's message as the detail for the log. */
function mapJoseError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  const { code, claim, reason, message } = error as {
    code?: string;
    claim?: string;
    reason?: string;
    message?: string;
  };
  const detail = message ?? String(error);
  switch (code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new InvalidTokenError('invalid_signature', detail);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new InvalidTokenError('unsupported_algorithm', detail);
    case 'ERR_JWT_EXPIRED':
      return new InvalidTokenError('token_expired', detail);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'iss') return new InvalidTokenError('issuer_mismatch', detail);
      if (claim === 'nbf' && reason === 'check_failed') {
        return new InvalidTokenError('token_not_yet_valid', detail);
      }
      if (reason === 'missing') return new InvalidTokenError('missing_claim', detail);
      return new InvalidTokenError('invalid_claim', detail);
    default:
      return new InvalidTokenError('malformed_token', detail, { cause: error });
  }
}
