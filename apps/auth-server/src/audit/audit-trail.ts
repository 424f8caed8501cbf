import type { Logger } from '@gatehouse/logging';
import type { AuditEvent, AuditFilter, AuditLog } from './audit-event.js';

/**
 * Records audit events: one line each on the audit log stream (its own logger, `stream: audit`)
 * and one entry each in the store, where every instance's trail meets and `cli audit` reads it.
 * Recording never fails or slows the request it describes: store writes are batched and not
 * awaited, and a failure is reported once per burst, not thrown. A crash loses at most the last
 * 50 ms of the store's copy; the log stream has every line.
 */
export interface AuditTrail {
  readonly enabled: boolean;
  record(event: Omit<AuditEvent, 'at'> & { readonly at?: number }): void;
  query(filter: AuditFilter): Promise<AuditEvent[]>;
  /** Deletes what is older than the retention period; returns how many. */
  prune(now?: number): Promise<number>;
  /** Resolves once every store write started so far has settled. */
  flush(): Promise<void>;
}

const BATCH_MS = 50;
const BATCH_MAX = 200;

export function createAuditTrail(options: {
  readonly enabled: boolean;
  readonly log: AuditLog;
  /** The audit stream, or undefined for no log lines (the store still keeps the trail). */
  readonly logger: Logger | undefined;
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
    if (events.length === 0) return;
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
      if (!options.enabled) return;
      const event = bounded({ ...input, at: input.at ?? Date.now() });
      options.logger?.info({ audit: event }, `audit ${event.type} ${event.outcome}`);
      batch.push(event);
      if (batch.length >= BATCH_MAX) writeBatch();
      else timer ??= setTimeout(writeBatch, BATCH_MS).unref();
    },
    query: async (filter) => {
      writeBatch();
      await Promise.all(pending);
      return options.log.query(filter);
    },
    prune: (now = Date.now()) => options.log.prune(now - options.retentionMs),
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
