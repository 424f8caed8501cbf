import { z } from 'zod';
import type { AuthInfo } from './auth-info.js';
import type { ResponseParts } from './error-response.js';
import { parseOptions } from './internal/options.js';
import {
  checkTats,
  compileRules,
  identityOf,
  isPromise,
  type Rule,
  stateOf,
} from './internal/rate-limit-rules.js';
import { type AuthLogger, silentLogger } from './logger.js';
import {
  limitUncheckableResponse,
  rateLimitFields,
  tooManyRequestsResponse,
} from './rate-limit-response.js';
import {
  createMemoryRateLimitStore,
  type RateLimitCell,
  type RateLimitStore,
  type RateLimitStoreAnswer,
} from './rate-limit-store.js';

/**
 * Whose requests a rule counts together: the token's subject (`sub`; a token without one, such as a
 * client-credentials token, is counted under its client id instead), its client (`client_id` or
 * `azp`; tokens with neither share the empty client id), or what a function of the
 * {@link AuthInfo} returns (`undefined`: the rule does not apply to this request).
 */
export type RateLimitKey = 'subject' | 'client' | ((authInfo: AuthInfo) => string | undefined);

export interface RateLimitRule {
  readonly key: RateLimitKey;
  /** Requests allowed at once from a full quota, and per `windowMs` sustained. */
  readonly limit: number;
  readonly windowMs: number;
  /**
   * The policy's name in the RateLimit fields, logs and store keys; default `subject`,
   * `client`, or `custom` for a function. Unique within a limiter (two subject rules need names).
   */
  readonly name?: string | undefined;
}

export interface RateLimiterSettings {
  /** Default: a new {@link createMemoryRateLimitStore} (this process only, bounded). */
  readonly store?: RateLimitStore | undefined;
  /**
   * When the store fails (Redis down, a timeout): `allow` (default) lets the request through
   * uncounted, `refuse` answers 503 `temporarily_unavailable` with `Retry-After: 5`. Either way a
   * warning is logged, at most once per 10 s with the number of failures since.
   */
  readonly onStoreError?: 'allow' | 'refuse' | undefined;
  /** Send `RateLimit-Policy` and `RateLimit` on allowed and refused responses; default `true`. */
  readonly headers?: boolean | undefined;
  readonly logger?: AuthLogger | undefined;
  /** Clock in ms; default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** One rule (`{ key, limit, windowMs }`) or several checked together (`{ limits: [...] }`). */
export type RateLimiterOptions = RateLimiterSettings &
  (RateLimitRule | { readonly limits: readonly RateLimitRule[] });

/** Where one identity stands under one rule. */
export interface RateLimitPolicyState {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  /** Requests it could still make now. */
  readonly remaining: number;
  /** When (ms since the epoch) its quota is whole again. */
  readonly resetAt: number;
  /** Ms until `remaining` next grows by one (for a refusal: until a retry can pass); 0 when whole. */
  readonly refillInMs: number;
}

/** A request counted against every rule that applies to it (or refused by one of them). */
export interface RateLimitCountedDecision {
  readonly allowed: boolean;
  readonly reason: 'within_limit' | 'limit_exceeded';
  /** The binding rule: when refused, the one to wait for longest; else the one with least left. */
  readonly policy: string;
  readonly limit: number;
  readonly remaining: number;
  readonly resetAt: number;
  /** 0 when allowed; else whole seconds, at least 1. */
  readonly retryAfterSeconds: number;
  /** Every rule that applied, in the order configured. */
  readonly policies: readonly RateLimitPolicyState[];
}

/** A request not counted: no rule applied, or the store failed (`allowed` per `onStoreError`). */
export interface RateLimitUncountedDecision {
  readonly allowed: boolean;
  readonly reason: 'not_limited' | 'store_unavailable';
  readonly retryAfterSeconds: number;
  readonly policies: readonly [];
}

export type RateLimitDecision = RateLimitCountedDecision | RateLimitUncountedDecision;

/** A decision with what to answer: the headers to add, or the whole 429/503 response. */
export type RateLimitOutcome =
  | {
      readonly ok: true;
      readonly decision: RateLimitDecision;
      readonly headers: Readonly<Record<string, string>>;
    }
  | {
      readonly ok: false;
      readonly decision: RateLimitDecision;
      readonly correlationId: string;
      readonly response: ResponseParts;
    };

/** Whose usage to read: what `check` would count a request of this subject and client against. */
export interface RateLimitTarget {
  readonly subject?: string | undefined;
  readonly clientId?: string | undefined;
  /** The value for rules keyed by a function. */
  readonly key?: string | undefined;
}

export interface RateLimitUsage {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  /** Requests still counted against the quota (0: idle). */
  readonly used: number;
  readonly remaining: number;
  readonly resetAt: number;
}

export interface RateLimiter {
  /** Counts one request of an authenticated caller against every rule that applies. */
  check(authInfo: AuthInfo): Promise<RateLimitDecision>;
  /**
   * `check`, then what to answer: headers to add when allowed, else the 429 (or, failing closed,
   * 503) response, logged with `correlationId` (default: a new UUID). The adapters call this.
   */
  enforce(
    authInfo: AuthInfo,
    options?: { readonly correlationId?: string | undefined },
  ): Promise<RateLimitOutcome>;
  /** Current usage per rule, counting nothing: one store read. Rejects when the store fails. */
  usage(target: RateLimitTarget): Promise<RateLimitUsage[]>;
}

const STORE_WARNING_INTERVAL_MS = 10_000;

const settingsSchema = z.object({
  onStoreError: z.enum(['allow', 'refuse']).optional(),
  headers: z.boolean().optional(),
});

/**
 * Per-subject and per-client rate limits for a resource server, checked after the token is
 * verified (the adapters' `koaRateLimit`, `enforceRateLimit`, `rateLimitResponse`).
 *
 * Algorithm: GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp per
 * counter). A rule of `limit` per `windowMs` lets a caller with a full quota make `limit` requests
 * at once, then one every `windowMs / limit`: the quota refills continuously, so there is no window
 * edge at which twice the limit can pass at once (as with fixed windows). Over any span of `t` ms
 * at most `limit + limit · t / windowMs` requests pass. Refused requests are not counted.
 *
 * Several rules are checked together, atomically: a request passes only if every rule that applies
 * has quota left, and then counts against all of them; a refusal counts against none. A rule's
 * counter is keyed by its name and a SHA-256 of the identity (never the raw subject or client id).
 *
 * @example
 * const limiter = createRateLimiter({
 *   limits: [
 *     { key: 'subject', limit: 60, windowMs: 60_000 },  // one user, across all clients
 *     { key: 'client', limit: 600, windowMs: 60_000 },  // one client, across all its users
 *   ],
 * });
 * app.use(koaAuth(rs));
 * app.use(koaRateLimit(limiter));
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  parseOptions(settingsSchema, options, 'Rate limiter');
  const rules =
    'limits' in options ? compileRules(options.limits, true) : compileRules([options], false);
  const allPolicies = rules.map((rule) => rule.policyItem).join(', ');
  const store = options.store ?? createMemoryRateLimitStore();
  const failOpen = (options.onStoreError ?? 'allow') === 'allow';
  const sendHeaders = options.headers ?? true;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  let lastWarningAt = Number.NEGATIVE_INFINITY;
  let failuresSinceWarning = 0;

  const warnStoreFailure = (error: unknown, at: number): void => {
    failuresSinceWarning += 1;
    if (at - lastWarningAt < STORE_WARNING_INTERVAL_MS) return;
    logger.warn(
      {
        reason: 'rate_limit_store_unavailable',
        onStoreError: failOpen ? 'allow' : 'refuse',
        failures: failuresSinceWarning,
        detail: error instanceof Error ? error.message : String(error),
      },
      failOpen
        ? 'rate-limit store failed; requests pass uncounted'
        : 'rate-limit store failed; requests are refused',
    );
    lastWarningAt = at;
    failuresSinceWarning = 0;
  };

  /** The cells of the rules that apply to `target`. */
  const cellsOf = (target: RateLimitTarget, authInfo?: AuthInfo): Applied | Promise<Applied> => {
    const applying: Rule[] = [];
    const cells: Array<RateLimitCell | Promise<RateLimitCell>> = [];
    let pending = false;
    for (const rule of rules) {
      const identity = identityOf(rule, target.subject, target.clientId, () =>
        authInfo && typeof rule.key === 'function' ? rule.key(authInfo) : target.key,
      );
      if (identity === undefined) continue;
      const cell = rule.cellOf(identity[0], identity[1]);
      pending ||= isPromise(cell);
      applying.push(rule);
      cells.push(cell);
    }
    const build = (resolved: readonly RateLimitCell[]): Applied => ({
      rules: applying,
      cells: resolved,
    });
    return pending ? Promise.all(cells).then(build) : build(cells as RateLimitCell[]);
  };

  const storeFailed = (error: unknown, nowMs: number): RateLimitUncountedDecision => {
    warnStoreFailure(error, nowMs);
    return {
      allowed: failOpen,
      reason: 'store_unavailable',
      retryAfterSeconds: failOpen ? 0 : 5,
      policies: [],
    };
  };

  /** Counts the request in the store: synchronously when the store answers synchronously. */
  const consume = (
    applied: Applied,
    nowMs: number,
  ): RateLimitDecision | Promise<RateLimitDecision> => {
    if (applied.cells.length === 0) {
      return { allowed: true, reason: 'not_limited', retryAfterSeconds: 0, policies: [] };
    }
    const nowUs = Math.floor(nowMs * 1000);
    const decided = (answer: RateLimitStoreAnswer) => decisionOf(applied, answer, nowUs);
    try {
      const answer = store.consume(applied.cells, nowUs);
      return isPromise(answer)
        ? answer.then(decided).catch((error: unknown) => storeFailed(error, nowMs))
        : decided(answer);
    } catch (error) {
      return storeFailed(error, nowMs);
    }
  };

  const decide = (authInfo: AuthInfo): RateLimitDecision | Promise<RateLimitDecision> => {
    const nowMs = now();
    const applied = cellsOf(
      { subject: authInfo.extra.subject, clientId: authInfo.clientId },
      authInfo,
    );
    return isPromise(applied)
      ? applied.then((cells) => consume(cells, nowMs))
      : consume(applied, nowMs);
  };

  return {
    check: async (authInfo) => decide(authInfo),
    async enforce(authInfo, enforceOptions) {
      const decision = await decide(authInfo);
      const fields =
        sendHeaders && decision.policies.length > 0
          ? rateLimitFields(
              decision.policies.length === rules.length
                ? allPolicies
                : rules
                    .filter((rule) => decision.policies.some((p) => p.name === rule.name))
                    .map((rule) => rule.policyItem)
                    .join(', '),
              decision.policies,
            )
          : {};
      if (decision.allowed) return { ok: true, decision, headers: fields };
      const correlationId = enforceOptions?.correlationId ?? crypto.randomUUID();
      if (decision.reason !== 'limit_exceeded') {
        return {
          ok: false,
          decision,
          correlationId,
          response: limitUncheckableResponse(correlationId),
        };
      }
      const log = {
        correlationId,
        status: 429,
        reason: 'rate_limit_exceeded',
        policy: decision.policy,
        retryAfterSeconds: decision.retryAfterSeconds,
        clientId: authInfo.clientId.slice(0, 128),
        ...(authInfo.extra.subject === undefined
          ? {}
          : { subject: authInfo.extra.subject.slice(0, 128) }),
      };
      if (logger.info) logger.info(log, 'request refused');
      else logger.warn(log, 'request refused');
      return {
        ok: false,
        decision,
        correlationId,
        response: tooManyRequestsResponse(decision.retryAfterSeconds, fields, correlationId),
      };
    },
    async usage(target) {
      const nowUs = Math.floor(now() * 1000);
      const applied = await cellsOf(target);
      const tats = await store.peek(
        applied.cells.map((cell) => cell.key),
        nowUs,
      );
      checkTats(tats, applied.cells.length);
      return applied.rules.map((rule, i) => {
        const state = stateOf(rule, tats[i] ?? 0, nowUs);
        return {
          name: rule.name,
          limit: rule.limit,
          windowMs: rule.windowMs,
          used: rule.limit - state.remaining,
          remaining: state.remaining,
          resetAt: state.resetAt,
        };
      });
    },
  };
}

/** The rules that apply to a request, and their cells in the same order. */
interface Applied {
  readonly rules: readonly Rule[];
  readonly cells: readonly RateLimitCell[];
}

/**
 * The decision from the store's answer: every rule's state, and the binding one (refused: the one
 * to wait for longest; allowed: the one with least left).
 */
function decisionOf(
  applied: Applied,
  answer: RateLimitStoreAnswer,
  nowUs: number,
): RateLimitCountedDecision {
  checkTats(answer.tats, applied.cells.length);
  const policies = applied.rules.map((rule, i) => stateOf(rule, answer.tats[i] ?? 0, nowUs));
  let binding = policies[0] as RateLimitPolicyState;
  for (const policy of policies) {
    const tighter = answer.recorded
      ? policy.remaining < binding.remaining
      : policy.remaining === 0 && (binding.remaining > 0 || policy.refillInMs > binding.refillInMs);
    if (tighter) binding = policy;
  }
  return {
    allowed: answer.recorded,
    reason: answer.recorded ? 'within_limit' : 'limit_exceeded',
    policy: binding.name,
    limit: binding.limit,
    remaining: binding.remaining,
    resetAt: binding.resetAt,
    retryAfterSeconds: answer.recorded ? 0 : Math.max(1, Math.ceil(binding.refillInMs / 1000)),
    policies,
  };
}
