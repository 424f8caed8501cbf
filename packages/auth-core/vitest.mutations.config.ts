import { defineConfig } from 'vitest/config';
import { mutations } from './test/mutations.js';

// Applies the mutation named by RULE_MUTATION to the source as Vite loads it (see test/mutations.ts).
const mutation = mutations[Number(process.env.RULE_MUTATION)];
if (!mutation) {
  throw new Error(`RULE_MUTATION must index test/mutations.ts, got ${process.env.RULE_MUTATION}`);
}

export default defineConfig({
  plugins: [
    {
      name: 'rule-mutation',
      enforce: 'pre',
      transform(code, id) {
        const edits = mutation.edits.filter((edit) => id.endsWith(edit.file));
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
