import {
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import {
  AuthError,
  ConfigurationError,
  InvalidTokenError,
  TemporarilyUnavailableError,
} from './errors.js';
import { type FetchLike, fetchJson } from './internal/fetch-json.js';
import { type AuthLogger, silentLogger } from './logger.js';

/** The key a JWS verifies with, as jose's key resolvers return it. */
export type VerificationKey = Awaited<ReturnType<ReturnType<typeof createLocalJWKSet>>>;

export interface JwksCacheOptions {
  /** The JWKS URL, or a function resolving it lazily (from discovery). */
  readonly jwksUri: string | (() => Promise<string>);
  readonly fetch?: FetchLike | undefined;
  /** Per request; default 5000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Largest JWKS accepted; default 256 KiB. */
  readonly maxBytes?: number | undefined;
  /** After this age the set is refreshed in the background; default 10 minutes. */
  readonly maxAgeMs?: number | undefined;
  /** Minimum time between two fetches (unknown-`kid` refetches included); default 30 s. */
  readonly cooldownMs?: number | undefined;
  readonly logger?: AuthLogger | undefined;
  readonly now?: (() => number) | undefined;
}

/** A JWKS kept in memory, refetched when stale or when a token names an unknown key. */
export interface JwksCache {
  /** A jose key resolver: returns the key for a JWS header or throws {@link InvalidTokenError}. */
  getKey(header: JWSHeaderParameters, token?: FlattenedJWSInput): Promise<VerificationKey>;
  /** Fetches the set now (e.g. at startup); rejects if it cannot be fetched. */
  refresh(): Promise<void>;
  /** Changes whenever a fetch brings a different key set; caches of verified tokens key on it. */
  readonly version: number;
}

/**
 * Creates a {@link JwksCache}. Behaviour a resource server needs and jose's remote set does not
 * give: when the JWKS endpoint goes down the keys already fetched keep working (refresh failures
 * are logged, not fatal), a cold start with the endpoint down fails closed, and an unknown `kid`
 * triggers at most one refetch per cooldown period so a stream of forged `kid`s cannot turn this
 * server into a load generator against the authorization server.
 */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 256 * 1024;
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const resolveUri =
    typeof options.jwksUri === 'string'
      ? () => Promise.resolve(options.jwksUri as string)
      : options.jwksUri;

  let keys: KeyResolver | undefined;
  let fetchedAt = 0;
  let version = 0;
  let fingerprint = '';
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;

  const load = (): Promise<void> => {
    if (pending) return pending;
    lastAttemptAt = now();
    pending = (async () => {
      const uri = await resolveUri();
      const { body } = await fetchJson(uri, { fetch: fetchImpl, timeoutMs, maxBytes });
      const usable = publicSigningKeys(body, uri, logger);
      const next = JSON.stringify(usable);
      if (next !== fingerprint) {
        fingerprint = next;
        version += 1;
        keys = memoizeKeys(createLocalJWKSet(usable));
      }
      fetchedAt = now();
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  const refreshInBackground = (): void => {
    load().catch((error: unknown) => {
      logger.warn(
        { err: describe(error) },
        'JWKS refresh failed; keeping the keys already fetched',
      );
    });
  };

  return {
    refresh: load,
    get version() {
      return version;
    },
    async getKey(header, token) {
      if (!keys) {
        try {
          await load();
        } catch (error) {
          if (error instanceof AuthError) throw error;
          throw new TemporarilyUnavailableError(
            'jwks_unavailable',
            `JWKS could not be fetched and no keys are cached: ${describe(error)}`,
            { cause: error },
          );
        }
      } else if (now() - fetchedAt > maxAgeMs && now() - lastAttemptAt >= cooldownMs) {
        refreshInBackground();
      }
      try {
        return await (keys as KeyResolver)(header, token);
      } catch (error) {
        if (!isNoMatchingKey(error)) throw error;
      }
      if (now() - lastAttemptAt < cooldownMs) {
        throw new InvalidTokenError(
          'unknown_key',
          `no JWKS key matches kid ${JSON.stringify(header.kid)} alg ${header.alg}; refetch on cooldown`,
        );
      }
      try {
        await load();
      } catch (error) {
        logger.warn({ err: describe(error) }, 'JWKS refetch for an unknown kid failed');
      }
      try {
        return await (keys as KeyResolver)(header, token);
      } catch (error) {
        if (!isNoMatchingKey(error)) throw error;
        throw new InvalidTokenError(
          'unknown_key',
          `no JWKS key matches kid ${JSON.stringify(header.kid)} alg ${header.alg} after refetch`,
        );
      }
    },
  };
}

/** Creates a key resolver over a fixed JWKS (tests, air-gapped deployments, test vectors). */
export function createStaticJwks(jwks: JSONWebKeySet): JwksCache {
  const keys = memoizeKeys(
    createLocalJWKSet(publicSigningKeys(jwks, 'the configured jwks', silentLogger)),
  );
  return {
    refresh: () => Promise.resolve(),
    version: 1,
    async getKey(header, token) {
      try {
        return await keys(header, token);
      } catch (error) {
        if (!isNoMatchingKey(error)) throw error;
        throw new InvalidTokenError(
          'unknown_key',
          `no key matches kid ${JSON.stringify(header.kid)} alg ${header.alg}`,
        );
      }
    },
  };
}

type KeyResolver = (
  header: JWSHeaderParameters,
  token?: FlattenedJWSInput,
) => Promise<VerificationKey>;

/**
 * Remembers which key an (`alg`, `kid`) pair resolved to, so the hot path skips jose's scan of the
 * set. Only successful resolutions are stored, so the map is bounded by the keys in the set; a new
 * set gets a new map, so a key removed from the JWKS is forgotten on refresh.
 */
function memoizeKeys(resolve: KeyResolver): KeyResolver {
  const resolved = new Map<string, VerificationKey>();
  return async (header, token) => {
    const id = `${header.alg}\u0000${header.kid ?? ''}`;
    const hit = resolved.get(id);
    if (hit) return hit;
    const key = await resolve(header, token);
    resolved.set(id, key);
    return key;
  };
}

/**
 * Keeps only public signing keys. A symmetric (`oct`) key in a published JWKS would let anyone
 * who read it mint tokens; a private member means the server leaked its key; both are dropped.
 */
function publicSigningKeys(
  body: Record<string, unknown> | JSONWebKeySet,
  source: string,
  logger: AuthLogger,
): JSONWebKeySet {
  const list = (body as { keys?: unknown }).keys;
  if (!Array.isArray(list))
    throw new ConfigurationError(`${source} is not a JWKS (no "keys" array)`);
  const usable: JWK[] = [];
  for (const key of list as unknown[]) {
    if (typeof key !== 'object' || key === null) continue;
    const jwk = key as JWK;
    const reject =
      jwk.kty === 'oct' || typeof jwk.kty !== 'string'
        ? 'not an asymmetric key'
        : 'd' in jwk || 'p' in jwk || 'k' in jwk
          ? 'carries private key material'
          : jwk.use !== undefined && jwk.use !== 'sig'
            ? `use is ${JSON.stringify(jwk.use)}`
            : undefined;
    if (reject) {
      logger.warn({ kid: jwk.kid, source }, `JWKS key ignored: ${reject}`);
      continue;
    }
    usable.push(jwk);
  }
  return { keys: usable };
}

function isNoMatchingKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_JWKS_NO_MATCHING_KEY';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
