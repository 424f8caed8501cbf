import { argon2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with argon2id from node:crypto (Node 24.7+, no native dependency), with the
 * parameters of OWASP's Password Storage Cheat Sheet: m=19 MiB, t=2, p=1. Hashes are PHC strings,
 * `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>` (standard base64 without padding, the format
 * libargon2, argon2-cffi and node-argon2 read and write), and verification takes the parameters
 * from the string, so they can be raised later without breaking stored users; `needsRehash` says
 * when a stored hash is weaker than what we write now.
 *
 * Hashes written before argon2id (`scrypt$N$r$p$salt$hash`, base64url, N=2^15 r=8 p=1) still
 * verify, and are replaced at the next successful sign-in (Accounts.authenticate).
 *
 * A stored hash is trusted data, but it must not become a denial of service: parameters beyond the
 * limits below, or any malformed field, make verification answer false without deriving anything.
 */

export const ARGON2_PARAMETERS = { memoryKiB: 19_456, passes: 2, parallelism: 1 } as const;
const SALT_BYTES = 16;
const TAG_BYTES = 32;

/**
 * What a stored argon2id hash may ask for. The ceiling is the largest common profile, RFC 9106's
 * low-memory option and argon2-cffi's default (m=64 MiB, t=3, p=4): about 5 times our cost. Raising
 * ARGON2_PARAMETERS beyond these needs the limits raised first (on every instance), or new hashes
 * would not verify.
 */
const ARGON2_LIMITS = {
  maxMemoryKiB: 65_536,
  maxPasses: 10,
  maxParallelism: 8,
  /** memory x passes: the work of one verification. */
  maxWork: 65_536 * 3,
  saltBytes: [8, 64],
  tagBytes: [16, 64],
} as const;

/** Legacy scrypt: no more memory than we ever wrote (128 * N * r = 32 MiB), p at most 4. */
const SCRYPT_LIMITS = { maxNr: 2 ** 15 * 8, maxP: 4, keyBytes: 32 } as const;
const SCRYPT_MAXMEM = 64 * 1024 * 1024;

interface Argon2Hash {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
  readonly salt: Buffer;
  readonly tag: Buffer;
}

interface ScryptHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const normalize = (password: string) => password.normalize('NFKC');

/**
 * Unpadded base64 (PHC strings: the standard alphabet; our scrypt hashes: base64url), `bytes` long
 * at least and at most. Strict: Buffer.from skips what it cannot read and takes either alphabet, so
 * a value that does not re-encode to itself exactly (other alphabet, padding, stray characters,
 * non-zero trailing bits) is malformed.
 */
function decodeB64(
  value: string | undefined,
  alphabet: 'base64' | 'base64url',
  bytes: readonly [number, number],
) {
  if (!value) return undefined;
  const decoded = Buffer.from(value, alphabet);
  if (decoded.length < bytes[0] || decoded.length > bytes[1]) return undefined;
  if (decoded.toString(alphabet).replace(/=+$/, '') !== value) return undefined;
  return decoded;
}

const decimal = (value: string | undefined, max: number) =>
  value !== undefined && /^[1-9][0-9]{0,9}$/.test(value) && Number(value) <= max
    ? Number(value)
    : undefined;

function parseArgon2(stored: string): Argon2Hash | undefined {
  const [empty, algorithm, version, params, salt, tag, ...rest] = stored.split('$');
  if (empty !== '' || algorithm !== 'argon2id' || version !== 'v=19' || rest.length > 0)
    return undefined;
  const match = /^m=([0-9]+),t=([0-9]+),p=([0-9]+)$/.exec(params ?? '');
  const memoryKiB = decimal(match?.[1], ARGON2_LIMITS.maxMemoryKiB);
  const passes = decimal(match?.[2], ARGON2_LIMITS.maxPasses);
  const parallelism = decimal(match?.[3], ARGON2_LIMITS.maxParallelism);
  if (memoryKiB === undefined || passes === undefined || parallelism === undefined)
    return undefined;
  if (memoryKiB < 8 * parallelism || memoryKiB * passes > ARGON2_LIMITS.maxWork) return undefined;
  const saltBytes = decodeB64(salt, 'base64', ARGON2_LIMITS.saltBytes);
  const tagBytes = decodeB64(tag, 'base64', ARGON2_LIMITS.tagBytes);
  if (!saltBytes || !tagBytes) return undefined;
  return { memoryKiB, passes, parallelism, salt: saltBytes, tag: tagBytes };
}

function parseScrypt(stored: string): ScryptHash | undefined {
  const [scheme, n, r, p, salt, key, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || rest.length > 0) return undefined;
  const nValue = decimal(n, 2 ** 20);
  const rValue = decimal(r, 1024);
  const pValue = decimal(p, SCRYPT_LIMITS.maxP);
  if (nValue === undefined || rValue === undefined || pValue === undefined) return undefined;
  // N must be a power of two above 1 (scrypt's own rule).
  if (nValue < 2 || (nValue & (nValue - 1)) !== 0 || nValue * rValue > SCRYPT_LIMITS.maxNr)
    return undefined;
  const saltBytes = decodeB64(salt, 'base64url', [8, 64]);
  const keyBytes = decodeB64(key, 'base64url', [SCRYPT_LIMITS.keyBytes, SCRYPT_LIMITS.keyBytes]);
  if (!saltBytes || !keyBytes) return undefined;
  return { n: nValue, r: rValue, p: pValue, salt: saltBytes, key: keyBytes };
}

function deriveArgon2(
  password: string,
  salt: Buffer,
  params: { memoryKiB: number; passes: number; parallelism: number },
  tagLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: normalize(password),
        nonce: salt,
        memory: params.memoryKiB,
        passes: params.passes,
        parallelism: params.parallelism,
        tagLength,
      },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

function deriveScrypt(password: string, hash: ScryptHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      normalize(password),
      hash.salt,
      hash.key.length,
      { N: hash.n, r: hash.r, p: hash.p, maxmem: SCRYPT_MAXMEM },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

function phc(salt: Buffer, tag: Buffer): string {
  const { memoryKiB, passes, parallelism } = ARGON2_PARAMETERS;
  return `$argon2id$v=19$m=${memoryKiB},t=${passes},p=${parallelism}$${b64(salt)}$${b64(tag)}`;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return phc(salt, await deriveArgon2(password, salt, ARGON2_PARAMETERS, TAG_BYTES));
}

/**
 * Checks a password against a stored hash (argon2id PHC string, or a legacy scrypt hash); compares
 * in constant time. False for a wrong password and for a stored hash that is malformed or asks for
 * more than the limits allow; rejects only when the derivation itself fails (e.g. out of memory).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  let actual: Buffer;
  let expected: Buffer;
  if (stored.startsWith('$argon2id$')) {
    const hash = parseArgon2(stored);
    if (!hash) return false;
    expected = hash.tag;
    actual = await deriveArgon2(password, hash.salt, hash, hash.tag.length);
  } else {
    const hash = parseScrypt(stored);
    if (!hash) return false;
    expected = hash.key;
    actual = await deriveScrypt(password, hash);
  }
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * True when a stored hash (that just verified) should be replaced by a new one: any scrypt hash,
 * and argon2id below the current memory, passes, salt or tag length. Stronger ones are kept.
 */
export function needsRehash(stored: string): boolean {
  const hash = parseArgon2(stored);
  if (!hash) return true;
  return (
    hash.memoryKiB < ARGON2_PARAMETERS.memoryKiB ||
    hash.passes < ARGON2_PARAMETERS.passes ||
    hash.salt.length < SALT_BYTES ||
    hash.tag.length < TAG_BYTES
  );
}

/**
 * What unknown usernames are checked against, so that timing does not tell whether a user exists:
 * an argon2id hash with the current parameters, so the check costs what a real one does. Its tag is
 * random bytes rather than a derived key (no password can match it, and nothing is computed at
 * startup). A user whose stored hash is still scrypt is checked at scrypt's cost until the next
 * sign-in upgrades it: that user's existence could be told apart by timing until then, which is
 * acceptable for the short time legacy hashes remain.
 */
const decoy = phc(randomBytes(SALT_BYTES), randomBytes(TAG_BYTES));
export function decoyHash(): string {
  return decoy;
}
