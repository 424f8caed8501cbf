import {
  AUDIT_EVENT_TYPES,
  type AuditEvent,
  type AuditEventType,
  type AuditFilter,
} from '@gatehouse/audit';

/** `cli audit`'s options, as parseArgs gives them. */
export interface AuditQueryOptions {
  readonly user?: string | undefined;
  readonly client?: string | undefined;
  readonly grant?: string | undefined;
  readonly type?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly limit?: string | undefined;
}

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO date or time, or a duration back from `now` (`30m`, `12h`, `7d`). */
export function parseTime(value: string, now: number, option: string): number {
  const ago = /^(\d+)([mhd])$/.exec(value);
  if (ago) return now - Number(ago[1]) * (UNITS[ago[2] ?? 'm'] ?? 0);
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new Error(
      `--${option} must be an ISO date (2026-12-01T09:00Z) or a duration (30m, 12h, 7d)`,
    );
  return at;
}

export function auditFilterFrom(options: AuditQueryOptions, now = Date.now()): AuditFilter {
  const types = options.type?.split(',').map((type) => type.trim());
  for (const type of types ?? []) {
    if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type))
      throw new Error(`--type ${type} is not one of ${AUDIT_EVENT_TYPES.join(', ')}`);
  }
  const limit = options.limit === undefined ? 1000 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw new Error('--limit must be a whole number from 1 to 100000');
  return {
    ...(options.user === undefined ? {} : { actor: options.user }),
    ...(options.client === undefined ? {} : { client: options.client }),
    ...(options.grant === undefined ? {} : { grant: options.grant }),
    ...(types ? { types: types as AuditEventType[] } : {}),
    ...(options.since === undefined ? {} : { since: parseTime(options.since, now, 'since') }),
    ...(options.until === undefined ? {} : { until: parseTime(options.until, now, 'until') }),
    limit,
  };
}

/** One line per event: time, type, outcome, then the fields it has, tab-separated. */
export function formatAuditEvent(event: AuditEvent): string {
  const fields = [
    new Date(event.at).toISOString(),
    event.type,
    event.outcome,
    ...(
      [
        ['actor', event.actor],
        ['client', event.client],
        ['resource', event.resource],
        ['grant', event.grant],
        ['request', event.requestId],
      ] as const
    ).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`])),
    ...Object.entries(event.detail ?? {}).map(([name, value]) => `${name}=${value}`),
  ];
  return fields.join('\t');
}
