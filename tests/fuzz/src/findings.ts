import type { SecretRegistry } from './secrets.js';

export type FindingKind =
  | 'server-error'
  | 'dropped-connection'
  | 'no-answer'
  | 'incomplete-response'
  | 'reflected-host'
  | 'connect-failed'
  | 'process-exit'
  | 'post-fuzz-flow'
  | 'secret-in-log'
  | 'non-json-log-line'
  | 'time-budget';

const KIND_TITLES: Record<FindingKind, string> = {
  'server-error': '5xx response',
  'dropped-connection': 'connection closed or reset without a response',
  'no-answer': 'no response within the time limit',
  'incomplete-response': 'response cut short by the connection closing',
  'reflected-host': 'foreign host reflected in the response',
  'connect-failed': 'could not connect',
  'process-exit': 'process exited',
  'post-fuzz-flow': 'flow broken after the fuzz',
  'secret-in-log': 'secret written to the log',
  'non-json-log-line': 'log line that is not JSON',
  'time-budget': 'fewer requests than asked for within the time budget',
};

export interface Finding {
  readonly kind: FindingKind;
  /** `auth POST /reg`, `mcp raw`, `auth-server log`, ... */
  readonly endpoint: string;
  /** One line: what was wrong (status line, which secret, ...). */
  readonly detail: string;
  /** The request or log line that shows it, as sent or written. */
  readonly example?: string;
  readonly index?: number;
}

export interface SummaryOptions {
  readonly replay: string;
  readonly requests: number;
  readonly examplesPerGroup?: number;
  readonly exampleChars?: number;
  /** Known secrets are replaced by their label in the printed examples. */
  readonly secrets?: SecretRegistry;
}

/** The deepest bracket nesting in `text` (strings not skipped: a hint, not a parser). */
function nesting(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth = Math.max(0, depth - 1);
  }
  return deepest;
}

/**
 * Readable and bounded: a request of several megabytes is shown by its start, its end (where the
 * closing brackets of deep nesting are) and its size.
 */
export function excerpt(text: string, max: number): string {
  if (text.length <= max) return JSON.stringify(text);
  const head = JSON.stringify(text.slice(0, Math.floor(max * 0.7)));
  const tail = JSON.stringify(text.slice(text.length - Math.floor(max * 0.2)));
  const depth = nesting(text);
  return `${head} … ${tail} (${text.length} chars${depth > 64 ? `, brackets nested ${depth} deep` : ''})`;
}

export class Findings {
  readonly #all: Finding[] = [];

  add(...findings: Finding[]): void {
    this.#all.push(...findings);
  }

  get all(): readonly Finding[] {
    return this.#all;
  }

  /** Every finding, grouped by kind and endpoint, with a few examples each, truncated. */
  summary(options: SummaryOptions): string {
    const perGroup = options.examplesPerGroup ?? 3;
    const chars = options.exampleChars ?? 400;
    const redact = (text: string) => options.secrets?.redact(text) ?? text;
    const lines = [
      `${this.#all.length} finding(s) in a run of ${options.requests} requests. Replay: ${options.replay}`,
    ];
    const byKind = new Map<FindingKind, Map<string, Finding[]>>();
    for (const finding of this.#all) {
      const endpoints = byKind.get(finding.kind) ?? new Map<string, Finding[]>();
      byKind.set(finding.kind, endpoints);
      const list = endpoints.get(finding.endpoint) ?? [];
      endpoints.set(finding.endpoint, list);
      list.push(finding);
    }
    for (const [kind, endpoints] of byKind) {
      const count = [...endpoints.values()].reduce((sum, list) => sum + list.length, 0);
      lines.push('', `== ${KIND_TITLES[kind]} [${kind}]: ${count}`);
      const sorted = [...endpoints].sort((a, b) => b[1].length - a[1].length);
      for (const [endpoint, list] of sorted) {
        lines.push(`  -- ${endpoint}: ${list.length}`);
        // Distinct symptoms first (details without the numbers that make every one unique), so a
        // group shows its different kinds of answer rather than one thrice.
        const seen = new Set<string>();
        const shape = (f: Finding) => f.detail.replace(/\d+/g, 'N');
        const examples = [
          ...list.filter((f) => !seen.has(shape(f)) && seen.add(shape(f))),
          ...list,
        ].slice(0, perGroup);
        for (const finding of new Set(examples)) {
          const at = finding.index === undefined ? '' : `#${finding.index} `;
          lines.push(`     ${at}${redact(finding.detail).slice(0, chars)}`);
          if (finding.example !== undefined)
            lines.push(`       ${excerpt(redact(finding.example), chars)}`);
        }
      }
    }
    lines.push('', `Replay: ${options.replay} (add FUZZ_ONLY=<#index,...> for single requests)`);
    return lines.join('\n');
  }
}
