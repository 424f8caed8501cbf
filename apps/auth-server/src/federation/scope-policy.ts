import type { UpstreamConfig } from './upstream-config.js';

/**
 * The scopes a federated account may hold at a resource: the union of the `scope_grants` that
 * match one of its groups (or every admitted person, without `group`) and the resource (or every
 * resource, without `resource`), within the resource's scopes. Without `scope_grants`, the
 * resource's default scopes. Nothing else, whatever a client asks for.
 */
export function allowedScopes(
  groups: readonly string[],
  upstream: Pick<UpstreamConfig, 'scope_grants'>,
  resource: {
    readonly resource: string;
    readonly scopes: readonly string[];
    readonly defaultScopes?: readonly string[] | undefined;
  },
): string[] {
  if (upstream.scope_grants === undefined) return [...(resource.defaultScopes ?? resource.scopes)];
  const granted = new Set<string>();
  for (const grant of upstream.scope_grants) {
    if (grant.group !== undefined && !groups.includes(grant.group)) continue;
    if (grant.resource !== undefined && grant.resource !== resource.resource) continue;
    for (const scope of grant.scopes) granted.add(scope);
  }
  return resource.scopes.filter((scope) => granted.has(scope));
}
