import { base64url, calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from 'jose';
import { InvalidDpopProofError, TemporarilyUnavailableError } from './errors.js';
import { TtlCache } from './internal/ttl-cache.js';

/** Remembers DPoP proof `jti`s so a captured proof cannot be replayed (RFC 9449 §11.1). */
export interface DpopReplayStore {
  /**
   * Records `key` until `expiresAtMs`; resolves `false` if it was already recorded. Throwing (or
   * rejecting) refuses the request with 503 `temporarily_unavailable`: the proof is not accepted.
   */
  remember(key: string, expiresAtMs: number): boolean | Promise<boolean>;
}

/**
 * An in-memory {@link DpopReplayStore}: each instance remembers only the proofs it saw itself, so a
 * multi-instance deployment passes a shared one (`createRedisReplayStore`).
 */
export function createMemoryReplayStore(
  maxEntries = 100_000,
  now: () => number = Date.now,
): DpopReplayStore {
  const seen = new TtlCache<true>(maxEntries, now);
  return {
    remember(key, expiresAtMs) {
      if (seen.has(key)) return false;
      seen.set(key, true, expiresAtMs - now());
      return true;
    },
  };
}

/** The asymmetric algorithms accepted for proofs by default. */
export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'] as const;

export interface DpopOptions {
  readonly algorithms?: readonly string[] | undefined;
  /** How old a proof's `iat` may be, in seconds; default 60. */
  readonly maxAgeSec?: number | undefined;
  /** How far in the future `iat` may be (clock skew), in seconds; default 5. */
  readonly clockToleranceSec?: number | undefined;
  readonly replayStore?: DpopReplayStore | undefined;
  readonly now?: (() => number) | undefined;
}

export interface DpopProofInput {
  /** Every `DPoP` header value the request carried; exactly one is required. */
  readonly proofs: readonly string[];
  readonly method: string;
  /** The request URL as the client addressed it. */
  readonly url: string;
  readonly accessToken: string;
  /** `cnf.jkt` of the access token. */
  readonly expectedJkt: string;
}

/** A DPoP proof checker with its options and replay store bound once. */
export type DpopProofVerifier = (input: DpopProofInput) => Promise<void>;

const DPOP_PROOF = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Builds a verifier of DPoP proofs for a resource server (RFC 9449 §4.3 and §7.1): one well-formed
 * `dpop+jwt` signed by the public key in its header with an allowed asymmetric algorithm; `htm`
 * and `htu` match this request; `iat` within the window; `jti` never seen before; `ath` is the
 * hash of the access token; and the key's thumbprint equals the token's `cnf.jkt`.
 */
export function createDpopProofVerifier(options: DpopOptions = {}): DpopProofVerifier {
  const algorithms = [...(options.algorithms ?? DEFAULT_DPOP_ALGORITHMS)];
  const maxAgeSec = options.maxAgeSec ?? 60;
  const toleranceSec = options.clockToleranceSec ?? 5;
  const now = options.now ?? Date.now;
  const replayStore = options.replayStore ?? createMemoryReplayStore(100_000, now);

  return async (input) => {
    if (input.proofs.length === 0) {
      throw new InvalidDpopProofError(
        'dpop_proof_missing',
        'DPoP-bound token sent without a DPoP proof',
      );
    }
    if (input.proofs.length > 1) {
      throw new InvalidDpopProofError(
        'dpop_proof_multiple',
        `request carried ${input.proofs.length} DPoP headers`,
      );
    }
    const proof = input.proofs[0] ?? '';
    if (proof.length > 8192 || !DPOP_PROOF.test(proof)) {
      throw new InvalidDpopProofError('dpop_proof_invalid', 'DPoP proof is not a compact JWS');
    }
    let payload: Record<string, unknown>;
    let jwk: JWK;
    try {
      const result = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms });
      payload = result.payload as Record<string, unknown>;
      jwk = result.protectedHeader.jwk as JWK;
    } catch (cause) {
      throw new InvalidDpopProofError(
        'dpop_proof_invalid',
        `DPoP proof rejected: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    const { jti, htm, htu, iat, ath } = payload;
    if (
      typeof jti !== 'string' ||
      jti === '' ||
      typeof htm !== 'string' ||
      typeof htu !== 'string'
    ) {
      throw new InvalidDpopProofError('dpop_proof_invalid', 'DPoP proof lacks jti, htm or htu');
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw new InvalidDpopProofError('dpop_proof_invalid', 'DPoP proof lacks a numeric iat');
    }
    if (htm !== input.method.toUpperCase()) {
      throw new InvalidDpopProofError(
        'dpop_htm_mismatch',
        `DPoP htm ${htm} is not ${input.method}`,
      );
    }
    if (normalizeHtu(htu) !== normalizeHtu(input.url)) {
      throw new InvalidDpopProofError(
        'dpop_htu_mismatch',
        `DPoP htu ${htu} is not the request URL`,
      );
    }
    const nowSec = Math.floor(now() / 1000);
    if (iat > nowSec + toleranceSec || iat < nowSec - maxAgeSec) {
      throw new InvalidDpopProofError(
        'dpop_iat_out_of_window',
        `DPoP iat ${iat} is outside the window at ${nowSec}`,
      );
    }
    const expectedAth = base64url.encode(
      new Uint8Array(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(input.accessToken)),
      ),
    );
    if (ath !== expectedAth) {
      throw new InvalidDpopProofError(
        'dpop_ath_mismatch',
        'DPoP ath does not match the access token',
      );
    }
    const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
    if (thumbprint !== input.expectedJkt) {
      throw new InvalidDpopProofError(
        'dpop_key_mismatch',
        'DPoP proof key is not the key the token is bound to',
      );
    }
    // Checked last, so a proof that fails another check does not burn its jti.
    let fresh: boolean;
    try {
      fresh = await replayStore.remember(
        `${thumbprint}:${jti}`,
        (iat + maxAgeSec + toleranceSec) * 1000,
      );
    } catch (cause) {
      // Fail closed: a proof whose jti could not be recorded might be a replay, so it is refused
      // (503, like an unreachable JWKS) rather than accepted or left to surface as a 500.
      throw new TemporarilyUnavailableError(
        'dpop_replay_store_unavailable',
        `DPoP replay store failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    if (!fresh) {
      throw new InvalidDpopProofError('dpop_proof_replayed', 'DPoP proof jti was already used');
    }
  };
}

/** RFC 9449 §4.3: compare without query and fragment, after URI normalisation. */
function normalizeHtu(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return `invalid:${value}`;
  }
}
