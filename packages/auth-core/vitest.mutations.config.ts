import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { mutations } from './test/mutations.js';

// Applies the mutation named by RULE_MUTATION to the source as Vite loads it (see test/mutations.ts).
const mutation = mutations[Number(process.env.RULE_MUTATION)];
if (!mutation) {
  throw new Error(`RULE_MUTATION must index test/mutations.ts, got ${process.env.RULE_MUTATION}`);
}

// Edits name files of this package; other packages' modules with the same relative path (e.g.
// testkit's src/dpop.ts, loaded by the tests) are left alone.
const packageRoot = new URL('.', import.meta.url).pathname;
const pathOf = (id: string) => id.split('?')[0] ?? id;

export default defineConfig({
  plugins: [
    {
      name: 'rule-mutation',
      enforce: 'pre',
      transform(code, id) {
        const edits = mutation.edits.filter((edit) => pathOf(id) === join(packageRoot, edit.file));
        if (edits.length === 0) return undefined;
        let mutated = code;
        for (const edit of edits) {
          if (!mutated.includes(edit.find)) {
            throw new Error(`mutation anchor not found in ${edit.file}: ${edit.find}`);
          }
          mutated = mutated.replace(edit.find, edit.replace);
        }
        return mutated;
      },
    },
  ],
  test: { include: ['test/**/*.test.ts'], testTimeout: 15_000, reporters: ['dot'] },
});
