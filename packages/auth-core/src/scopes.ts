import { ConfigurationError } from './errors.js';

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** True when `value` is a syntactically valid scope token. */
export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/**
 * Reads the scopes a token grants: `scope` (RFC 9068, space separated) or `scp` (an array, or a
 * space-separated string as some servers send). Invalid scope tokens are dropped; order is kept,
 * duplicates removed.
 */
export function parseScopes(claims: {
  readonly scope?: unknown;
  readonly scp?: unknown;
}): string[] {
  const raw = claims.scope ?? claims.scp;
  let parts: unknown[];
  if (typeof raw === 'string') parts = raw.split(' ');
  else if (Array.isArray(raw)) parts = raw;
  else return [];
  const scopes = new Set<string>();
  for (const part of parts) if (typeof part === 'string' && isScopeToken(part)) scopes.add(part);
  return [...scopes];
}

/** A broader scope mapped to the narrower scopes it implies, e.g. `{ 'mcp:admin': ['mcp:tools'] }`. */
export type ScopeHierarchy = Readonly<Record<string, readonly string[]>>;

/** Decides whether granted scopes cover required ones, honouring a scope hierarchy. */
export interface ScopePolicy {
  /** Every scope the granted ones imply, the granted ones included (transitively). */
  expand(granted: readonly string[]): ReadonlySet<string>;
  /** The required scopes that `granted` does not cover, in the order they were required. */
  missing(granted: readonly string[], required: readonly string[]): string[];
}

/** Builds a {@link ScopePolicy}; validates the hierarchy once, here, not on every request. */
export function createScopePolicy(hierarchy: ScopeHierarchy = {}): ScopePolicy {
  for (const [broader, narrower] of Object.entries(hierarchy)) {
    for (const scope of [broader, ...narrower]) {
      if (!isScopeToken(scope)) {
        throw new ConfigurationError(
          `scopeHierarchy contains an invalid scope ${JSON.stringify(scope)}`,
        );
      }
    }
  }
  const closure = new Map<string, ReadonlySet<string>>();
  const implied = (scope: string): ReadonlySet<string> => {
    const cached = closure.get(scope);
    if (cached) return cached;
    const seen = new Set<string>([scope]);
    const pending = [scope];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      for (const narrower of hierarchy[next] ?? []) {
        if (!seen.has(narrower)) {
          seen.add(narrower);
          pending.push(narrower);
        }
      }
    }
    closure.set(scope, seen);
    return seen;
  };
  const expand = (granted: readonly string[]): ReadonlySet<string> => {
    const all = new Set<string>();
    for (const scope of granted) for (const s of implied(scope)) all.add(s);
    return all;
  };
  return {
    expand,
    missing(granted, required) {
      if (required.length === 0) return [];
      const all = expand(granted);
      return required.filter((scope) => !all.has(scope));
    },
  };
}
