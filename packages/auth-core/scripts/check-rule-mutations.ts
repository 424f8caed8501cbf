/**
 * Runs every rule mutation in test/mutations.ts and fails if the named tests still pass with the
 * rule removed. Run: pnpm --filter @gatehouse/auth-core test:rules
 */
import { spawnSync } from 'node:child_process';
import { mutations } from '../test/mutations.js';

const survivors: string[] = [];
const vitest = new URL('../node_modules/.bin/vitest', import.meta.url).pathname;
for (const [index, mutation] of mutations.entries()) {
  const result = spawnSync(
    vitest,
    ['run', '--config', 'vitest.mutations.config.ts', ...mutation.tests],
    {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, RULE_MUTATION: String(index) },
      encoding: 'utf8',
    },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  if (output.includes('mutation anchor not found')) {
    survivors.push(
      `${mutation.rule}: an edit anchor no longer matches the source (update test/mutations.ts)`,
    );
    console.log(`ANCHOR MISSING  ${mutation.rule}`);
  } else if (result.status === 0) {
    survivors.push(`${mutation.rule}: tests still pass without it`);
    console.log(`SURVIVED  ${mutation.rule}`);
  } else {
    console.log(`killed    ${mutation.rule}`);
  }
}
console.log(
  `\n${mutations.length - survivors.length} of ${mutations.length} rule mutations killed`,
);
if (survivors.length > 0) {
  console.error(`Rules without a failing negative test:\n- ${survivors.join('\n- ')}`);
  process.exit(1);
}
