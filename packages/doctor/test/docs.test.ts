import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Every finding id the doctor can report is explained in docs/doctor.md, under its full name. */
const source = new URL('../src/', import.meta.url);
const docs = readFileSync(new URL('../../../docs/doctor.md', import.meta.url), 'utf8');

function sources(dir: URL): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(new URL(`${entry.name}/`, dir))
      : [readFileSync(new URL(entry.name, dir), 'utf8')],
  );
}

describe('docs/doctor.md', () => {
  it('documents every finding id', () => {
    const ids = new Set<string>();
    for (const text of sources(source))
      for (const match of text.matchAll(
        /'((?:challenge|resource-metadata|authorization-server|registration|authorization-request|token-endpoint|cors|login|token|mcp|refresh|clients)\.[a-z0-9-]+)'/g,
      ))
        if (match[1]) ids.add(match[1]);
    // Built from an endpoint name: authorization-server.authorization-endpoint, .token-endpoint.
    ids.add('authorization-server.authorization-endpoint');
    ids.add('authorization-server.token-endpoint');
    expect(ids.size).toBeGreaterThan(50);
    expect([...ids].filter((id) => !docs.includes(`\`${id}\``))).toEqual([]);
  });
});
