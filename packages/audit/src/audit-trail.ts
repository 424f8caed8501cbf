import type { AuditStream } from '@gatehouse/logging';
import type { AuditEvent, AuditFilter, AuditLog, GrantActivity } from './audit-event.js';

/**
 * Records audit events: one line each on the audit log stream (`stream: audit`)
 * and one entry each in the store, where every instance's trail meets and `cli audit` reads it.
 * Recording never fails or slows the request it describes: store writes are batched and not
 * awaited, and a failure is reported once per burst, not thrown. A crash that skips the exit
 * handlers (a kill -9) loses at most the last 50 ms of the store's copy and 100 ms of the stream.
 */
export interface AuditTrail {
  readonly enabled: boolean;
  record(event: Omit<AuditEvent, 'at'> & { readonly at?: number }): void;
  query(filter: AuditFilter): Promise<AuditEvent[]>;
  /** Per grant: last issued, refreshed and used (what was recorded so far included). */
  activity(grantIds: readonly string[]): Promise<Map<string, GrantActivity>>;
  /** Deletes what is older than the retention period; returns how many. */
  prune(now?: number): Promise<number>;
  /** Resolves once every store write started so far has settled. */
  flush(): Promise<void>;
}

const BATCH_MS = 50;
const BATCH_MAX = 200;

export function createAuditTrail(options: {
  readonly enabled: boolean;
  /** Told of every event, whether or not the trail keeps it (metrics count them). */
  readonly observe?: (event: { readonly type: string; readonly outcome: string }) => void;
  /** Where events are kept, or undefined for the log stream only (queries then find nothing). */
  readonly log: AuditLog | undefined;
  /** The audit stream, or undefined for no log lines (the store still keeps the trail). */
  readonly stream: AuditStream | undefined;
  readonly retentionMs: number;
  /** Told when the store refused an event (the event is still on the log stream). */
  readonly onStoreError: (error: unknown) => void;
}): AuditTrail {
  const pending = new Set<Promise<void>>();
  let failing = false;
  let batch: AuditEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  // Events go to the store in batches (at most BATCH_MS late, BATCH_MAX at a time): one
  // transaction or command for many events instead of one each.
  const writeBatch = () => {
    clearTimeout(timer);
    timer = undefined;
    const events = batch;
    batch = [];
    if (events.length === 0 || !options.log) return;
    const write = options.log
      .append(events)
      .then(() => {
        failing = false;
      })
      .catch((error: unknown) => {
        if (!failing) options.onStoreError(error);
        failing = true;
      })
      .finally(() => pending.delete(write));
    pending.add(write);
  };
  return {
    enabled: options.enabled,
    record(input) {
      options.observe?.(input);
      if (!options.enabled) return;
      const event = bounded({ ...input, at: input.at ?? Date.now() });
      options.stream?.write(event, `audit ${event.type} ${event.outcome}`);
      if (!options.log) return;
      batch.push(event);
      if (batch.length >= BATCH_MAX) writeBatch();
      else timer ??= setTimeout(writeBatch, BATCH_MS).unref();
    },
    query: async (filter) => {
      writeBatch();
      await Promise.all(pending);
      return options.log?.query(filter) ?? [];
    },
    activity: async (grantIds) => {
      writeBatch();
      await Promise.all(pending);
      return options.log?.activity(grantIds) ?? new Map();
    },
    prune: async (now = Date.now()) => options.log?.prune(now - options.retentionMs) ?? 0,
    async flush() {
      writeBatch();
      await Promise.all(pending);
    },
  };
}

const cut = (value: string | undefined, max: number) =>
  value === undefined || value.length <= max ? value : `${value.slice(0, max)}…`;

/**
 * An event with every text bounded (a username typed into the sign-in form can be 16 kB): ids 256
 * characters, details 512, at most 16 details.
 */
function bounded(event: AuditEvent): AuditEvent {
  return {
    at: event.at,
    type: event.type,
    outcome: event.outcome,
    ...(event.actor === undefined ? {} : { actor: cut(event.actor, 256) }),
    ...(event.client === undefined ? {} : { client: cut(event.client, 256) }),
    ...(event.resource === undefined ? {} : { resource: cut(event.resource, 256) }),
    ...(event.grant === undefined ? {} : { grant: cut(event.grant, 256) }),
    ...(event.requestId === undefined ? {} : { requestId: cut(event.requestId, 256) }),
    ...(event.detail === undefined
      ? {}
      : {
          detail: Object.fromEntries(
            Object.entries(event.detail)
              .slice(0, 16)
              .map(([key, value]) => [cut(key, 64), cut(value, 512)]),
          ),
        }),
  };
}
