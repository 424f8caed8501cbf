import * as crypto from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Accounts } from '../src/accounts/accounts.js';
import {
  ARGON2_PARAMETERS,
  decoyHash,
  hashPassword,
  needsRehash,
  verifyPassword,
} from '../src/accounts/passwords.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';

// The real node:crypto, with argon2 and scrypt wrapped so a test can see whether (and with which
// parameters) a key was derived: "refused without burning CPU" is checked without timing anything.
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, argon2: vi.fn(original.argon2), scrypt: vi.fn(original.scrypt) };
});
const argon2Calls = () => vi.mocked(crypto.argon2).mock.calls;
const scryptCalls = () => vi.mocked(crypto.scrypt).mock.calls;
beforeEach(() => vi.clearAllMocks());

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/** A PHC string for `password` computed here with argon2Sync (cheap parameters for rule tests). */
function argon2idPhc(
  password: string,
  { m, t, p = 1, saltBytes = 16, tagBytes = 32 }: Record<string, number>,
): string {
  const salt = crypto.randomBytes(saltBytes);
  const tag = crypto.argon2Sync('argon2id', {
    message: password,
    nonce: salt,
    memory: m ?? 0,
    passes: t ?? 0,
    parallelism: p,
    tagLength: tagBytes,
  });
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(tag)}`;
}

// Hashes written by other implementations (argon2-cffi 25.1.0 with argon2-cffi-bindings 26.2.0,
// i.e. the reference libargon2, generated once in a Python venv and pasted here):
//   PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)
//   PasswordHasher()  (argon2-cffi's defaults: RFC 9106's low-memory profile, m=64 MiB t=3 p=4)
const CFFI_OWASP = {
  password: 'correct horse battery staple',
  hash: '$argon2id$v=19$m=19456,t=2,p=1$+EqwVJ8bI60UKhUcSHgcpg$E2mygtSlow/B/Duj30sPi+P9OpjQPjiDEtpaDTuiqs4',
};
const CFFI_DEFAULTS = {
  password: 'correct horse battery staple',
  hash: '$argon2id$v=19$m=65536,t=3,p=4$oco8kzux5X/qCE9L/YONUw$BE+mKKvIARFeNQP2HuveJTP748A+YS1+uO5+pHioI8Y',
};
/** argon2-cffi (OWASP parameters) over NFKC('\ufb01sh \u2460') = 'fish 1'. */
const CFFI_NFKC = {
  password: '\ufb01sh \u2460',
  normalized: 'fish 1',
  hash: '$argon2id$v=19$m=19456,t=2,p=1$6WtyPkajfXMDpXdXGEs21A$iZetHPyAq3OyrFbBoBjBtpVEfOqDh8XHeazvjRpW5Vc',
};

// Written by the previous passwords.ts (scrypt N=2^15 r=8 p=1, 16-byte salt, 32-byte key,
// `scrypt$N$r$p$salt$hash` in base64url), run unchanged from git before the switch to argon2id.
const LEGACY_SCRYPT = {
  'carol-password':
    'scrypt$32768$8$1$iNgE8mAlKmR4CnE9ozsrzQ$v7dzh1AnNcYJkQr7bEcOUIg_hlHXthWHMrp2SlWbu0w',
  'alice-password':
    'scrypt$32768$8$1$SO5BuCeuMxZeIQxpBe7FCA$ZK6JiI1TX1akKVnpAhG7-sOdBbOa_dHxbsvBpWfXwZk',
  'correct horse battery staple':
    'scrypt$32768$8$1$4DGgUlOeyaBmgU1JkvPp7w$rwLVXBXGWe2IKPMoY_I17MXTdixg4Qa0Qidh16-GE1A',
} as const;

const OWASP_PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

describe('argon2id hashing', () => {
  it('writes PHC strings with exactly OWASP parameters: m=19456 KiB, t=2, p=1, 16-byte salt, 32-byte tag', async () => {
    expect(ARGON2_PARAMETERS).toEqual({ memoryKiB: 19_456, passes: 2, parallelism: 1 });
    const hash = await hashPassword('alice-password');
    const [, salt = '', tag = ''] = OWASP_PHC.exec(hash) ?? [];
    expect(hash).toMatch(OWASP_PHC);
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    // The tag is what argon2id gives with those parameters (not just what the string says).
    const expected = crypto.argon2Sync('argon2id', {
      message: 'alice-password',
      nonce: Buffer.from(salt, 'base64'),
      memory: 19_456,
      passes: 2,
      parallelism: 1,
      tagLength: 32,
    });
    expect(tag).toBe(b64(expected));
  });

  it('round trip: the right password verifies, a wrong one does not; every hash has its own salt', async () => {
    const hash = await hashPassword('alice-password');
    expect(await verifyPassword('alice-password', hash)).toBe(true);
    expect(await verifyPassword('alice-passwore', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await hashPassword('alice-password')).not.toBe(hash);
    expect(needsRehash(hash)).toBe(false);
  });

  it('verifies hashes written by argon2-cffi (libargon2), reading the parameters from the string', async () => {
    expect(await verifyPassword(CFFI_OWASP.password, CFFI_OWASP.hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', CFFI_OWASP.hash)).toBe(false);
    expect(await verifyPassword(CFFI_DEFAULTS.password, CFFI_DEFAULTS.hash)).toBe(true);
    expect(await verifyPassword('Correct horse battery staple', CFFI_DEFAULTS.hash)).toBe(false);
    const used = argon2Calls().map(([, params]) => [
      params.memory,
      params.passes,
      params.parallelism,
    ]);
    expect(used).toEqual([
      [19_456, 2, 1],
      [19_456, 2, 1],
      [65_536, 3, 4],
      [65_536, 3, 4],
    ]);
    // Stronger than ours: kept as it is.
    expect(needsRehash(CFFI_DEFAULTS.hash)).toBe(false);
    expect(needsRehash(CFFI_OWASP.hash)).toBe(false);
  });

  it('NFKC-normalises passwords, hashing and verifying', async () => {
    expect(await verifyPassword(CFFI_NFKC.password, CFFI_NFKC.hash)).toBe(true);
    expect(await verifyPassword(CFFI_NFKC.normalized, CFFI_NFKC.hash)).toBe(true);
    const ours = await hashPassword(CFFI_NFKC.password);
    expect(await verifyPassword(CFFI_NFKC.normalized, ours)).toBe(true);
  });
});

describe('legacy scrypt hashes', () => {
  it('still verify, the wrong password does not, and they need a rehash', async () => {
    for (const [password, hash] of Object.entries(LEGACY_SCRYPT)) {
      expect(await verifyPassword(password, hash)).toBe(true);
      expect(await verifyPassword(`${password}!`, hash)).toBe(false);
      expect(needsRehash(hash)).toBe(true);
    }
    expect(scryptCalls().map(([, , , options]) => [options.N, options.r, options.p])).toEqual(
      Array(6).fill([32_768, 8, 1]),
    );
  });
});

describe('needsRehash', () => {
  it('is false for the current parameters and for stronger ones', () => {
    const cheap = { p: 1 };
    expect(needsRehash(argon2idPhc('x', { ...cheap, m: 19_456, t: 2 }))).toBe(false);
    expect(needsRehash(argon2idPhc('x', { ...cheap, m: 47_104, t: 2 }))).toBe(false);
    expect(needsRehash(argon2idPhc('x', { ...cheap, m: 19_456, t: 3 }))).toBe(false);
  });
  it('is true below the current memory', () => {
    expect(needsRehash(argon2idPhc('x', { m: 19_455, t: 2 }))).toBe(true);
  });
  it('is true below the current passes', () => {
    expect(needsRehash(argon2idPhc('x', { m: 47_104, t: 1 }))).toBe(true);
  });
  it('is true for a salt shorter than 16 bytes', () => {
    expect(needsRehash(argon2idPhc('x', { m: 19_456, t: 2, saltBytes: 8 }))).toBe(true);
  });
  it('is true for a tag shorter than 32 bytes', () => {
    expect(needsRehash(argon2idPhc('x', { m: 19_456, t: 2, tagBytes: 16 }))).toBe(true);
  });
  it('is true for scrypt and for anything it cannot read', () => {
    expect(needsRehash(LEGACY_SCRYPT['alice-password'])).toBe(true);
    // Another variant with our parameters: not ours to keep.
    const argon2i = argon2idPhc('x', { m: 19_456, t: 2 }).replace('$argon2id$', '$argon2i$');
    expect(needsRehash(argon2i)).toBe(true);
    expect(needsRehash(`x${argon2idPhc('x', { m: 19_456, t: 2 })}`)).toBe(true);
    expect(needsRehash('')).toBe(true);
  });
});

describe('stored hashes that are malformed or ask for too much', () => {
  const salt = 'AAAAAAAAAAAAAAAAAAAAAA'; // 16 bytes
  const tag = 'A'.repeat(43); // 32 bytes
  const phc = (params: string, s = salt, t = tag, head = '$argon2id$v=19') =>
    `${head}$${params}$${s}$${t}`;
  const scryptSalt = 'AAAAAAAAAAAAAAAAAAAAAA';
  const scryptKey = 'A'.repeat(43);
  const refused: Array<[string, string]> = [
    ['4 GiB of memory', phc('m=4194304,t=2,p=1')],
    ['memory above 64 MiB', phc('m=65537,t=1,p=1')],
    ['1000 passes', phc('m=19456,t=1000,p=1')],
    ['passes above 10', phc('m=8192,t=11,p=1')],
    ['64 MiB with 4 passes (over the work limit)', phc('m=65536,t=4,p=1')],
    ['parallelism 255', phc('m=19456,t=2,p=255')],
    ['parallelism 9', phc('m=19456,t=2,p=9')],
    ['memory below 8 x parallelism', phc('m=15,t=2,p=2')],
    ['zero passes', phc('m=19456,t=0,p=1')],
    ['leading zero', phc('m=019456,t=2,p=1')],
    ['exponent', phc('m=1e4,t=2,p=1')],
    ['negative', phc('m=-19456,t=2,p=1')],
    ['parameters out of order', phc('t=2,m=19456,p=1')],
    ['extra parameter', phc('m=19456,t=2,p=1,keyid=AA')],
    ['missing parameter', phc('m=19456,t=2')],
    ['version 16', phc('m=19456,t=2,p=1', salt, tag, '$argon2id$v=16')],
    ['no version', `$argon2id$m=19456,t=2,p=1$${salt}$${tag}`],
    ['argon2i', phc('m=19456,t=2,p=1', salt, tag, '$argon2i$v=19')],
    ['argon2d', phc('m=19456,t=2,p=1', salt, tag, '$argon2d$v=19')],
    ['padded salt', phc('m=19456,t=2,p=1', `${salt}==`)],
    ['base64url salt', phc('m=19456,t=2,p=1', `-_${salt.slice(2)}`)],
    [
      'salt with a stray character',
      phc('m=19456,t=2,p=1', `${salt.slice(0, 10)}.${salt.slice(10)}`),
    ],
    ['non-canonical salt (trailing bits)', phc('m=19456,t=2,p=1', `${salt.slice(0, -1)}B`)],
    ['salt of 4 bytes', phc('m=19456,t=2,p=1', 'AAAAAA')],
    ['salt of 65 bytes', phc('m=19456,t=2,p=1', b64(Buffer.alloc(65)))],
    ['empty salt', phc('m=19456,t=2,p=1', '')],
    ['tag of 8 bytes', phc('m=19456,t=2,p=1', salt, 'AAAAAAAAAAA')],
    ['tag of 65 bytes', phc('m=19456,t=2,p=1', salt, b64(Buffer.alloc(65)))],
    ['empty tag', phc('m=19456,t=2,p=1', salt, '')],
    ['an extra field', `${phc('m=19456,t=2,p=1')}$AAAA`],
    ['a trailing newline', `${phc('m=19456,t=2,p=1')}\n`],
    ['a megabyte of tag', phc('m=19456,t=2,p=1', salt, 'A'.repeat(2 ** 20))],
    ['empty', ''],
    ['a plain password', 'alice-password'],
    ['scrypt N=2^20', `scrypt$1048576$8$1$${scryptSalt}$${scryptKey}`],
    ['scrypt N=2^30', `scrypt$1073741824$8$1$${scryptSalt}$${scryptKey}`],
    [
      'scrypt N=2^16 (more memory than ever written)',
      `scrypt$65536$8$1$${scryptSalt}$${scryptKey}`,
    ],
    ['scrypt r=1024', `scrypt$32768$1024$1$${scryptSalt}$${scryptKey}`],
    ['scrypt p=1000', `scrypt$32768$8$1000$${scryptSalt}$${scryptKey}`],
    ['scrypt p=5', `scrypt$32768$8$5$${scryptSalt}$${scryptKey}`],
    ['scrypt N not a power of two', `scrypt$30000$8$1$${scryptSalt}$${scryptKey}`],
    ['scrypt N=1', `scrypt$1$8$1$${scryptSalt}$${scryptKey}`],
    ['scrypt key of 16 bytes', `scrypt$32768$8$1$${scryptSalt}$${'A'.repeat(22)}`],
    ['scrypt standard-base64 salt', `scrypt$32768$8$1$+/${scryptSalt.slice(2)}$${scryptKey}`],
    ['scrypt missing field', `scrypt$32768$8$1$${scryptSalt}`],
    ['scrypt extra field', `scrypt$32768$8$1$${scryptSalt}$${scryptKey}$x`],
  ];
  it.each(refused)('%s: false, and no key derived', async (_name, stored) => {
    await expect(verifyPassword('alice-password', stored)).resolves.toBe(false);
    expect(argon2Calls()).toHaveLength(0);
    expect(scryptCalls()).toHaveLength(0);
  });

  it('accepts the ceilings themselves (argon2-cffi default profile, scrypt as written)', async () => {
    expect(await verifyPassword(CFFI_DEFAULTS.password, CFFI_DEFAULTS.hash)).toBe(true);
    expect(await verifyPassword('carol-password', LEGACY_SCRYPT['carol-password'])).toBe(true);
  });
});

describe('decoy hash for unknown users', () => {
  it('is argon2id with exactly the parameters of new hashes, and matches no password', async () => {
    const decoy = decoyHash();
    const prefix = (hash: string) => hash.split('$').slice(0, 4).join('$');
    expect(decoy).toMatch(OWASP_PHC);
    expect(prefix(decoy)).toBe(prefix(await hashPassword('x')));
    expect(needsRehash(decoy)).toBe(false);
    expect(decoyHash()).toBe(decoy);
    expect(await verifyPassword('', decoy)).toBe(false);
  });

  it('an unknown user costs one argon2id derivation with the current parameters', async () => {
    const accounts = new Accounts(new SqliteStore({ kind: 'memory' }));
    vi.clearAllMocks();
    expect(await accounts.authenticate('nobody', 'alice-password')).toBeUndefined();
    expect(scryptCalls()).toHaveLength(0);
    expect(
      argon2Calls().map(([alg, params]) => [
        alg,
        params.memory,
        params.passes,
        params.parallelism,
        params.tagLength,
      ]),
    ).toEqual([['argon2id', 19_456, 2, 1, 32]]);
  });
});

describe('Accounts: upgrading hashes', () => {
  let store: SqliteStore;
  let accounts: Accounts;
  beforeEach(() => {
    store = new SqliteStore({ kind: 'memory' });
    accounts = new Accounts(store);
  });
  afterEach(() => store.close());
  const stored = async (username: string) => (await store.getUser(username))?.passwordHash ?? '';
  /** The store with some methods replaced (the others bound to the real store). */
  const wrap = (overrides: Partial<Store>): Store =>
    new Proxy(store, {
      get(target, property) {
        if (property in overrides) return overrides[property as keyof Store];
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

  it('a sign-in with a scrypt hash succeeds and leaves an argon2id hash that signs in again', async () => {
    await store.putUser('carol', LEGACY_SCRYPT['carol-password']);
    expect(await accounts.authenticate('carol', 'carol-password')).toBe('carol');
    const upgraded = await stored('carol');
    expect(upgraded).toMatch(OWASP_PHC);
    expect(await verifyPassword('carol-password', upgraded)).toBe(true);
    expect(await accounts.authenticate('carol', 'carol-password')).toBe('carol');
    // Current hashes are left alone.
    expect(await stored('carol')).toBe(upgraded);
  });

  it('a weaker argon2id hash is upgraded at sign-in too', async () => {
    await store.putUser('carol', argon2idPhc('carol-password', { m: 8192, t: 1 }));
    expect(await accounts.authenticate('carol', 'carol-password')).toBe('carol');
    expect(await stored('carol')).toMatch(OWASP_PHC);
  });

  it('a failed sign-in changes nothing', async () => {
    await store.putUser('carol', LEGACY_SCRYPT['carol-password']);
    expect(await accounts.authenticate('carol', 'wrong-password')).toBeUndefined();
    expect(await stored('carol')).toBe(LEGACY_SCRYPT['carol-password']);
  });

  it('a failure to store the upgrade does not fail the sign-in; the next sign-in retries', async () => {
    await store.putUser('carol', LEGACY_SCRYPT['carol-password']);
    const failing = wrap({ putUser: () => Promise.reject(new Error('store down')) });
    expect(await new Accounts(failing).authenticate('carol', 'carol-password')).toBe('carol');
    expect(await stored('carol')).toBe(LEGACY_SCRYPT['carol-password']);
    expect(await accounts.authenticate('carol', 'carol-password')).toBe('carol');
    expect(await stored('carol')).toMatch(OWASP_PHC);
  });

  it('does not undo a password changed, or a user removed, while the sign-in was checked', async () => {
    await store.putUser('carol', LEGACY_SCRYPT['carol-password']);
    await store.putUser('dave', LEGACY_SCRYPT['alice-password']);
    const changed = await hashPassword('carol-new-password');
    // The second read of the user is the upgrade's: `change` happens just before it.
    const racing = (change: () => Promise<unknown>) => {
      let reads = 0;
      return wrap({
        getUser: async (username: string) => {
          reads += 1;
          if (reads === 2) await change();
          return store.getUser(username);
        },
      });
    };
    const carol = racing(() => store.putUser('carol', changed));
    expect(await new Accounts(carol).authenticate('carol', 'carol-password')).toBe('carol');
    expect(await stored('carol')).toBe(changed);
    const dave = racing(() => store.deleteUser('dave'));
    expect(await new Accounts(dave).authenticate('dave', 'alice-password')).toBe('dave');
    expect(await store.getUser('dave')).toBeUndefined();
  });

  it('seeding upgrades configured users whose stored scrypt hash verifies; current ones stay', async () => {
    await store.putUser('alice', LEGACY_SCRYPT['alice-password']);
    const current = await hashPassword('bob-password');
    await store.putUser('bob', current);
    await accounts.seed(
      [
        { username: 'alice', password: 'alice-password' },
        { username: 'bob', password: 'bob-password' },
      ],
      false,
    );
    expect(await stored('alice')).toMatch(OWASP_PHC);
    expect(await verifyPassword('alice-password', await stored('alice'))).toBe(true);
    expect(await stored('bob')).toBe(current);
  });

  it('seeding upgrades the dev user too', async () => {
    const password = await store.secret('dev-user-password', () => 'carol-password');
    await store.putUser('dev', LEGACY_SCRYPT['carol-password']);
    expect(await accounts.seed([], true)).toEqual({ username: 'dev', password });
    const upgraded = await stored('dev');
    expect(upgraded).toMatch(OWASP_PHC);
    await accounts.seed([], true);
    expect(await stored('dev')).toBe(upgraded);
  });

  it('restoring missing configured users writes argon2id', async () => {
    expect(await accounts.restoreMissing([{ username: 'alice', password: 'alice-password' }])).toBe(
      1,
    );
    expect(await stored('alice')).toMatch(OWASP_PHC);
  });
});
