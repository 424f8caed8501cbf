import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The pnpm catalog (pnpm-workspace.yaml) is the one place a shared dependency's version is set.
 * The published auth-core and doctor and the examples cannot say `catalog:` (npm keeps it as is; users copy
 * the examples), so they pin versions literally: the catalog's, or they drift apart unnoticed.
 */

const repoRoot = new URL('../../../', import.meta.url).pathname;

function catalog(): Map<string, string> {
  const text = readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
  const section = /^catalog:\n((?: {2}.+\n?)+)/m.exec(text)?.[1] ?? '';
  return new Map(
    [...section.matchAll(/^ {2}"?([^":]+)"?: (\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
}

const literalPackages = [
  'packages/auth-core',
  'packages/doctor',
  ...readdirSync(join(repoRoot, 'examples'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `examples/${entry.name}`),
];

describe('dependency versions', () => {
  const versions = catalog();

  it('reads the catalog', () => {
    expect(versions.get('jose')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(versions.size).toBeGreaterThan(10);
  });

  it.each(literalPackages)('%s pins the catalog versions', (folder) => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8'));
    const drifted: string[] = [];
    for (const field of ['dependencies', 'devDependencies'] as const) {
      for (const [name, version] of Object.entries<string>(manifest[field] ?? {})) {
        const wanted = versions.get(name);
        if (version === 'catalog:') drifted.push(`${name}: catalog: cannot be installed from here`);
        else if (wanted !== undefined && version !== wanted)
          drifted.push(`${name}: ${version}, catalog ${wanted}`);
      }
    }
    expect(drifted).toEqual([]);
  });
});
