import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Store } from '../store/store.js';

/**
 * Signing keys: one active RS256 and one active ES256 key, generated on first start and kept in the
 * store. oidc-provider signs with the first key of an algorithm in the set it is given, so active
 * keys go first; retired keys follow, still published so tokens they signed keep verifying until
 * they expire, and are deleted after `retentionSec`.
 */

export const SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

async function generate(alg: SigningAlgorithm): Promise<{ kid: string; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
  });
  const kid = `${alg.toLowerCase()}-${randomUUID()}`;
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' } };
}

/**
 * Creates a key for every algorithm that has no active one. Returns how many were created. Under
 * the store's lock, so instances starting together on one Redis create one key per algorithm.
 */
export async function ensureSigningKeys(store: Store): Promise<number> {
  // Checked without the lock first: the periodic key check runs on every instance and almost
  // always finds every key there.
  if ((await missingAlgorithms(store)).length === 0) return 0;
  return store.withLock('signing-keys', () => createMissingKeys(store));
}

async function missingAlgorithms(store: Store): Promise<SigningAlgorithm[]> {
  const active = new Set(
    (await store.listKeys()).filter((k) => k.retiredAt === null).map((k) => k.alg),
  );
  return SIGNING_ALGORITHMS.filter((alg) => !active.has(alg));
}

async function createMissingKeys(store: Store): Promise<number> {
  let created = 0;
  for (const alg of await missingAlgorithms(store)) {
    const { kid, privateJwk } = await generate(alg);
    await store.addKey({
      kid,
      alg,
      privateJwk: JSON.stringify(privateJwk),
      createdAt: Date.now(),
      retiredAt: null,
    });
    created += 1;
  }
  return created;
}

/**
 * Adds a new active key per algorithm and retires the previous ones (still published), under the
 * same store lock as key creation, so a rotation never interleaves with an instance's start.
 */
export function rotateSigningKeys(store: Store): Promise<string[]> {
  return store.withLock('signing-keys', () => rotate(store));
}

async function rotate(store: Store): Promise<string[]> {
  const kids: string[] = [];
  for (const alg of SIGNING_ALGORITHMS) {
    const { kid, privateJwk } = await generate(alg);
    const now = Date.now();
    await store.addKey({
      kid,
      alg,
      privateJwk: JSON.stringify(privateJwk),
      createdAt: now,
      retiredAt: null,
    });
    await store.retireKeys(alg, kid, now);
    kids.push(kid);
  }
  return kids;
}

/** The private JWKS for oidc-provider: active keys first, then retired ones still within retention. */
export async function providerJwks(store: Store, retentionSec: number): Promise<{ keys: JWK[] }> {
  await store.deleteKeysRetiredBefore(Date.now() - retentionSec * 1000);
  const keys = await store.listKeys();
  const ordered = [
    ...keys.filter((k) => k.retiredAt === null),
    ...keys.filter((k) => k.retiredAt !== null),
  ];
  return { keys: ordered.map((k) => JSON.parse(k.privateJwk) as JWK) };
}
