/**
 * What the doctor reports: one finding per check, in the order a client meets them. A finding
 * carries what was sent and answered (secrets redacted), the clause it is judged by, and a fix.
 */

/** `pass` and `info` are not problems; `warn` breaks some clients or later sessions; `fail` breaks clients now. */
export type FindingStatus = 'pass' | 'info' | 'skip' | 'warn' | 'fail';

/** The steps of the walk, in the order clients take them. */
export type Step =
  | 'challenge'
  | 'resource-metadata'
  | 'authorization-server-metadata'
  | 'registration'
  | 'authorization-request'
  | 'token-endpoint'
  | 'cors'
  | 'login'
  | 'token'
  | 'mcp'
  | 'refresh'
  | 'clients';

export const STEP_ORDER: readonly Step[] = [
  'challenge',
  'resource-metadata',
  'authorization-server-metadata',
  'registration',
  'authorization-request',
  'token-endpoint',
  'cors',
  'login',
  'token',
  'mcp',
  'refresh',
  'clients',
];

/** One HTTP exchange, as text, with tokens, codes and secrets replaced by `[redacted]`. */
export interface Evidence {
  readonly request: string;
  readonly response: string;
}

export interface Finding {
  /** Stable identifier, e.g. `resource-metadata.resource`; documented in docs/doctor.md. */
  readonly id: string;
  readonly step: Step;
  readonly status: FindingStatus;
  /** One line: what was found. */
  readonly title: string;
  /** Why it matters and to whom (which clients, which step breaks). */
  readonly detail?: string;
  /** The specification clause it is judged by, e.g. "RFC 9728 §3.3". */
  readonly clause?: string;
  /** What to change, concretely. */
  readonly fix?: string;
  readonly evidence?: readonly Evidence[];
}

/** How each corpus client is expected to fare on this chain (`--as`). */
export interface ClientVerdict {
  readonly id: string;
  readonly client: string;
  readonly status: FindingStatus;
  /** The first step where it fails or is at risk, with the reason; empty when it connects. */
  readonly reasons: readonly string[];
}

export interface Report {
  readonly tool: 'gatehouse-doctor';
  readonly version: string;
  readonly target: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly findings: readonly Finding[];
  readonly clients?: readonly ClientVerdict[];
  readonly summary: Readonly<Record<FindingStatus, number>>;
  /** True when nothing failed: the CLI exits 0 exactly then. */
  readonly ok: boolean;
}

/** Collects findings in order; a check adds through it and never throws for a server's mistake. */
export class Findings {
  readonly list: Finding[] = [];

  add(finding: Finding): Finding {
    this.list.push(finding);
    return finding;
  }

  pass(step: Step, id: string, title: string, extra: Partial<Finding> = {}): Finding {
    return this.add({ ...extra, id, step, status: 'pass', title });
  }

  has(id: string, status?: FindingStatus): boolean {
    return this.list.some((f) => f.id === id && (status === undefined || f.status === status));
  }
}

export function summarize(findings: readonly Finding[]): Record<FindingStatus, number> {
  const summary: Record<FindingStatus, number> = { pass: 0, info: 0, skip: 0, warn: 0, fail: 0 };
  for (const finding of findings) summary[finding.status]++;
  return summary;
}
