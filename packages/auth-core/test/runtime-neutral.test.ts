import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = new URL('../src/', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? '',
  );

describe('package boundaries', () => {
  it('keeps the core free of Node built-ins and web frameworks', () => {
    const offenders = sourceFiles(src).flatMap((file) =>
      importsOf(file)
        .filter(
          (spec) =>
            spec.startsWith('node:') ||
            ['koa', 'express', 'http', 'https', 'crypto', 'fs', 'net', 'buffer'].includes(spec),
        )
        .map((spec) => `${file.slice(src.length)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('imports only jose and zod from outside the package', () => {
    const external = new Set(
      sourceFiles(src)
        .flatMap(importsOf)
        .filter((spec) => !spec.startsWith('.')),
    );
    expect([...external].sort()).toEqual(['jose', 'zod']);
  });

  it('uses no Node globals (Buffer, process) in the core', () => {
    const offenders = sourceFiles(src).filter((file) =>
      /\b(Buffer|process)\./.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
