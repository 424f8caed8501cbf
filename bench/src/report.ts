import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './servers.js';

/** What a result was measured on: printed with the tables and stored with the raw samples. */
export interface BenchEnvironment {
  readonly date: string;
  readonly commit: string | undefined;
  readonly machine: {
    readonly cpu: string;
    readonly cpus: number;
    readonly totalMemMb: number;
    readonly os: string;
  };
  readonly node: string;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
  } catch {
    return undefined;
  }
}

export function benchEnvironment(): BenchEnvironment {
  return {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      totalMemMb: Math.round(totalmem() / 2 ** 20),
      os: `${type()} ${release()}`,
    },
    node: process.version,
  };
}

/** A whole-number bench setting from the environment (`BENCH_…`), at least `min`. */
export function benchSetting(name: string, fallback: number, min: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min} (got ${process.env[name]})`);
  return value;
}

/** A number with its unit: no decimals from 100 up, one below; `n/a` for missing values. */
export function num(value: number | undefined, unit: string): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 ? 0 : 1;
  return `${value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}${unit ? ` ${unit}` : ''}`;
}

/** A ratio such as `22x` or `1.4x`. */
export function times(value: number): string {
  return Number.isNaN(value) ? 'n/a' : `${value.toFixed(value >= 10 ? 0 : value >= 1 ? 1 : 2)}x`;
}

/** A Markdown table, first column left-aligned, the others right-aligned, padded to line up. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, column) => (column === 0 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(rows[0] ?? []), rule, ...rows.slice(1).map(line)].join('\n');
}

/**
 * Writes `results/<name>-<date>.json` (a second run the same day overwrites it) with numbers
 * rounded to one decimal, formatted like the rest of the repo so that `biome ci .` passes with the
 * file committed. Returns the path.
 */
export function writeResults(name: string, date: string, data: unknown): string {
  const resultsDir = new URL('../results/', import.meta.url).pathname;
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}-${date.slice(0, 10)}.json`);
  const round1 = (value: number) => Math.round(value * 10) / 10;
  writeFileSync(
    file,
    `${JSON.stringify(
      data,
      (_key, value: unknown) =>
        typeof value === 'number' && !Number.isInteger(value) ? round1(value) : value,
      2,
    )}\n`,
  );
  const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome');
  if (existsSync(biome)) spawnSync(biome, ['format', '--write', file], { stdio: 'ignore' });
  return file;
}
