import { readFileSync } from 'node:fs';

/**
 * The names in `names` that a file at the repository root (`README.md`, `.env.example`) never
 * mentions as a whole word: for the test that every configuration variable is documented.
 */
export function undocumentedNames(names: readonly string[], rootFile: string): string[] {
  const text = readFileSync(new URL(`../../../${rootFile}`, import.meta.url), 'utf8');
  return names.filter((name) => !new RegExp(`\\b${name}\\b`).test(text));
}
