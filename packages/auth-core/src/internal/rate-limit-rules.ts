import { z } from 'zod';
import type { AuthInfo } from '../auth-info.js';
import { ConfigurationError } from '../errors.js';
import type { RateLimitPolicyState, RateLimitRule } from '../rate-limit.js';
import { policyItem } from '../rate-limit-response.js';
import type { RateLimitCell } from '../rate-limit-store.js';
import { parseOptions } from './options.js';
import { sha256Base64url } from './sha256.js';

/** What a counter counts: a subject, a client, or a custom key's value (namespaces the hash). */
export type IdentityKind = 's' | 'c' | 'k';

/** A rule compiled once: its GCRA parameters, its `RateLimit-Policy` item and its cells. */
export interface Rule {
  readonly name: string;
  readonly key: RateLimitRule['key'];
  readonly limit: number;
  readonly windowMs: number;
  /** GCRA emission interval T (µs). */
  readonly intervalUs: number;
  /** GCRA burst tolerance τ = (limit − 1) · T (µs). */
  readonly toleranceUs: number;
  readonly policyItem: string;
  /** The cell of one identity, keyed `<name>:<base64url SHA-256 of kind and value>`. */
  cellOf(kind: IdentityKind, value: string): RateLimitCell | Promise<RateLimitCell>;
}

/** Cells of identities seen lately, per rule and kind: most requests come from a recent caller. */
const CELL_MEMO_ENTRIES = 4096;
/** Longer identities are hashed every time (Web Crypto's digest is a trip to a worker thread). */
const CELL_MEMO_MAX_LENGTH = 256;
const MAX_WINDOW_MS = 366 * 24 * 3600 * 1000;

const ruleSchema = z.object({
  key: z.union([
    z.enum(['subject', 'client']),
    z.custom<(authInfo: AuthInfo) => string | undefined>(
      (value) => typeof value === 'function',
      "must be 'subject', 'client' or a function",
    ),
  ]),
  limit: z.number().int().min(1).max(1_000_000_000),
  windowMs: z.number().int().min(1).max(MAX_WINDOW_MS),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . or -')
    .optional(),
});

/** Checks and compiles the rules; `listed`: given as `limits` (named so in errors). */
export function compileRules(given: readonly RateLimitRule[], listed: boolean): Rule[] {
  if (given.length === 0) throw new ConfigurationError('Rate limiter options: limits is empty');
  const names = new Set<string>();
  return given.map((rule, i) => {
    parseOptions(ruleSchema, rule, `Rate limiter${listed ? ` limits[${i}]` : ''}`);
    const name = rule.name ?? (typeof rule.key === 'function' ? 'custom' : rule.key);
    if (names.has(name)) {
      throw new ConfigurationError(
        `Rate limiter options: two rules are named '${name}'; give each its own name`,
      );
    }
    names.add(name);
    if ((rule.windowMs * 1000) / rule.limit < 1) {
      throw new ConfigurationError(
        `Rate limiter options: rule '${name}' allows more than one request per microsecond`,
      );
    }
    // Rounded down: `limit` requests are always whole again after `windowMs`.
    const intervalUs = Math.floor((rule.windowMs * 1000) / rule.limit);
    const toleranceUs = (rule.limit - 1) * intervalUs;
    return {
      name,
      key: rule.key,
      limit: rule.limit,
      windowMs: rule.windowMs,
      intervalUs,
      toleranceUs,
      policyItem: policyItem(name, rule.limit, rule.windowMs),
      cellOf: cellCache(name, intervalUs, toleranceUs),
    };
  });
}

function cellCache(name: string, intervalUs: number, toleranceUs: number): Rule['cellOf'] {
  const memos = { s: new Map(), c: new Map(), k: new Map() } as const satisfies Record<
    IdentityKind,
    Map<string, RateLimitCell>
  >;
  return (kind, value) => {
    const memo = memos[kind];
    return (
      memo.get(value) ??
      sha256Base64url(`${kind}\u0000${value}`).then((hash) => {
        const cell: RateLimitCell = { key: `${name}:${hash}`, intervalUs, toleranceUs };
        if (value.length <= CELL_MEMO_MAX_LENGTH) {
          const oldest = memo.size >= CELL_MEMO_ENTRIES ? memo.keys().next() : undefined;
          if (oldest && !oldest.done) memo.delete(oldest.value);
          memo.set(value, cell);
        }
        return cell;
      })
    );
  };
}

/**
 * Whom a rule counts this request against; `undefined` when the rule does not apply. A token
 * without a subject (client credentials) is counted by the subject rules under its client id.
 */
export function identityOf(
  rule: Rule,
  subject: string | undefined,
  clientId: string | undefined,
  custom: () => string | undefined,
): readonly [IdentityKind, string] | undefined {
  if (rule.key === 'subject') {
    if (subject) return ['s', subject];
    return clientId === undefined ? undefined : ['c', clientId];
  }
  if (rule.key === 'client') return clientId === undefined ? undefined : ['c', clientId];
  const value = custom();
  return value === undefined ? undefined : ['k', value];
}

/**
 * A rule's state from its counter's TAT. With `d` = TAT − now (0 when idle), the quota left is the
 * number of further requests with `d + (k − 1) · T ≤ τ`; it grows by one once `d` has dropped to
 * `τ − remaining · T`.
 */
export function stateOf(rule: Rule, tat: number, nowUs: number): RateLimitPolicyState {
  const d = Math.max(tat - nowUs, 0);
  const remaining =
    d > rule.toleranceUs ? 0 : Math.floor((rule.toleranceUs - d) / rule.intervalUs) + 1;
  const refillUs = remaining >= rule.limit ? 0 : d - rule.toleranceUs + remaining * rule.intervalUs;
  return {
    name: rule.name,
    limit: rule.limit,
    windowMs: rule.windowMs,
    remaining: Math.min(remaining, rule.limit),
    resetAt: (nowUs + d) / 1000,
    refillInMs: refillUs / 1000,
  };
}

/** A store's answer must be one safe integer per cell; anything else counts as a store failure. */
export function checkTats(tats: readonly number[], cells: number): void {
  if (tats.length !== cells || !tats.every(Number.isSafeInteger)) {
    throw new Error('rate-limit store answered with something other than one TAT per cell');
  }
}

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}
