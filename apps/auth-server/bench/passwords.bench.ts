/**
 * Password hashing side by side, one derivation per operation, interleaved in rounds (testkit's
 * bench): scrypt N=2^15 r=8 p=1 (what we wrote before argon2id), scrypt N=2^17 r=8 p=1
 * (OWASP's minimum for scrypt), and argon2id m=19456 KiB t=2 p=1 (OWASP's first choice, what we
 * write now). The old scrypt and the argon2id cases run through verifyPassword, as a sign-in does.
 * Run: pnpm bench (root) or pnpm --filter @gatehouse/auth-server bench.
 * Options: BENCH_ROUNDS (default 5), BENCH_ROUND_MS (3000).
 */
import { randomBytes, scrypt } from 'node:crypto';
import { bench } from '@gatehouse/testkit';
import { hashPassword, verifyPassword } from '../src/accounts/passwords.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const roundMs = Number(process.env.BENCH_ROUND_MS ?? 3000);
const password = 'correct horse battery staple';

/** A hash in the format of the scrypt passwords.ts (base64url salt and key). */
function legacyScrypt(n: number): Promise<string> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: n, r: 8, p: 1, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      error
        ? reject(error)
        : resolve(`scrypt$${n}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`),
    ),
  );
}

const scryptOld = await legacyScrypt(2 ** 15);
const argon2id = await hashPassword(password);
// Fail loudly rather than measure a path that refuses.
for (const hash of [scryptOld, argon2id]) {
  if (!(await verifyPassword(password, hash))) throw new Error(`does not verify: ${hash}`);
}

const cases = [
  {
    name: 'scrypt N=2^15 r=8 p=1 (before, 32 MiB)',
    run: () => verifyPassword(password, scryptOld),
  },
  {
    name: "scrypt N=2^17 r=8 p=1 (OWASP's scrypt minimum, 128 MiB)",
    run: () => legacyScrypt(2 ** 17),
  },
  {
    name: 'argon2id m=19456 t=2 p=1 (now, OWASP, 19 MiB)',
    run: () => verifyPassword(password, argon2id),
  },
];
const results = await bench(cases, { rounds, roundMs, warmupMs: 1000 });

const ms = (us: number) => (us / 1000).toFixed(1);
const [old, owaspScrypt, now] = results;
console.log(
  `\nPassword hashing, one derivation per operation, ${rounds} interleaved rounds of ${roundMs} ms per case, Node ${process.version}\n`,
);
console.log('| hash | median (ms) | p99 (ms) | median vs argon2id | samples |');
console.log('|---|---:|---:|---:|---:|');
for (const r of results) {
  const ratio = now ? (r.p50Us / now.p50Us).toFixed(2) : '';
  console.log(`| ${r.name} | ${ms(r.p50Us)} | ${ms(r.p99Us)} | ${ratio}x | ${r.ops} |`);
}
if (old && owaspScrypt && now) {
  console.log(
    `\nargon2id / old scrypt: ${(now.p50Us / old.p50Us).toFixed(2)}x the time per sign-in (median), ${(now.p99Us / old.p99Us).toFixed(2)}x at p99`,
  );
  console.log(
    `argon2id / scrypt N=2^17: ${(now.p50Us / owaspScrypt.p50Us).toFixed(2)}x (median), ${(now.p99Us / owaspScrypt.p99Us).toFixed(2)}x at p99`,
  );
  console.log('(p99 is the maximum when a case has fewer than 100 samples.)');
}
