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

/** Where the trail is kept: every instance on one store shares it. */
export interface AuditLog {
  /** Appends events in one write (one transaction, one command). */
  append(events: readonly AuditEvent[]): Promise<void>;
  query(filter: AuditFilter): Promise<AuditEvent[]>;
  /** Deletes events older than `before` (ms); returns how many. */
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
