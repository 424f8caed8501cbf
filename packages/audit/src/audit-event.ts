/**
 * The audit trail's vocabulary: who did what, to which client and resource, when, with what
 * outcome, under which request id. Ids and names only: never a password, token, code or secret.
 */

export const AUDIT_EVENT_TYPES = [
  /** A password sign-in (failure: the username tried, never the password). */
  'sign_in',
  /** A sign-in through an upstream identity provider (denied: an allow-list turned them away). */
  'upstream_sign_in',
  /** Consent given or refused (denied: a scope the account may not have). */
  'consent',
  /** A client registered by DCR (with its redirect hosts). */
  'client_registered',
  /** Tokens issued for a code or client credentials. */
  'token_issued',
  /** A refresh (failure too: "did this client ever try to refresh?"). */
  'token_refreshed',
  /** A refresh token or code presented again: its grant revoked. */
  'credential_reuse',
  /** A grant revoked (by revocation, reuse, an admin). */
  'grant_revoked',
  /** A token revoked at the revocation endpoint. */
  'token_revoked',
  /** Signing keys rotated. */
  'key_rotation',
  /** Anything an operator did (CLI, admin console): the action and its target. */
  'admin_action',
  /** A tool called at an MCP server (the tool, outcome and duration; never its arguments). */
  'tool_call',
  /** A request an MCP server refused with 429: the caller used its quota (the policy). */
  'rate_limited',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEvent {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly type: AuditEventType;
  readonly outcome: AuditOutcome;
  /** Who: an account id, a client id acting on its own, or `cli:<os user>`. */
  readonly actor?: string | undefined;
  readonly client?: string | undefined;
  readonly resource?: string | undefined;
  readonly grant?: string | undefined;
  readonly requestId?: string | undefined;
  /** A few more facts (scopes, grant type, reason, redirect hosts), as short strings. */
  readonly detail?: Readonly<Record<string, string>> | undefined;
}

export interface AuditFilter {
  readonly actor?: string;
  readonly client?: string;
  readonly grant?: string;
  readonly types?: readonly AuditEventType[];
  /** From (inclusive) and until (exclusive), in ms. */
  readonly since?: number;
  readonly until?: number;
  /** The most recent `limit` events (default 1000), returned oldest first. */
  readonly limit?: number;
}

/**
 * What the trail knows of one grant, kept up to date as events are appended (reading it does not
 * scan the trail): when tokens were last issued for it, last refreshed, and last used at a
 * resource server (a tool call). Milliseconds since the epoch.
 */
export interface GrantActivity {
  readonly issuedAt?: number;
  readonly refreshedAt?: number;
  readonly usedAt?: number;
}

/** Which events move which time of {@link GrantActivity}. */
function activityOf(event: AuditEvent): keyof GrantActivity | undefined {
  if (event.grant === undefined) return undefined;
  if (event.type === 'tool_call') return 'usedAt';
  if (event.outcome !== 'success') return undefined;
  if (event.type === 'token_issued') return 'issuedAt';
  if (event.type === 'token_refreshed') return 'refreshedAt';
  return undefined;
}

/** Per grant, the latest time of each kind a batch of events carries. */
export function latestActivity(
  events: readonly AuditEvent[],
): Map<string, { issuedAt?: number; refreshedAt?: number; usedAt?: number }> {
  const latest = new Map<string, { issuedAt?: number; refreshedAt?: number; usedAt?: number }>();
  for (const event of events) {
    const kind = activityOf(event);
    if (kind === undefined || event.grant === undefined) continue;
    const entry = latest.get(event.grant) ?? {};
    entry[kind] = Math.max(entry[kind] ?? 0, event.at);
    latest.set(event.grant, entry);
  }
  return latest;
}

/** Where the trail is kept: every instance (and every app) on one store shares it. */
export interface AuditLog {
  /** Appends events in one write (one transaction, one command), with their grant activity. */
  append(events: readonly AuditEvent[]): Promise<void>;
  query(filter: AuditFilter): Promise<AuditEvent[]>;
  /** The activity of each grant asked for that the trail has seen (within its retention). */
  activity(grantIds: readonly string[]): Promise<Map<string, GrantActivity>>;
  /** Deletes events (and grant activity) older than `before` (ms); returns how many events. */
  prune(before: number): Promise<number>;
}

/** Whether `event` passes `filter`'s fields (the time range and limit are the store's). */
export function matchesAuditFilter(event: AuditEvent, filter: AuditFilter): boolean {
  return (
    (filter.actor === undefined || event.actor === filter.actor) &&
    (filter.client === undefined || event.client === filter.client) &&
    (filter.grant === undefined || event.grant === filter.grant) &&
    (filter.types === undefined || filter.types.includes(event.type)) &&
    (filter.since === undefined || event.at >= filter.since) &&
    (filter.until === undefined || event.at < filter.until)
  );
}
