/**
 * `offline_access` the MCP way: honoured whether or not the client sends `prompt=consent`.
 *
 * oidc-provider applies OpenID Connect's rule (Core §11): `offline_access` is ignored unless
 * `prompt=consent` is present. MCP clients are told to add `offline_access` when the server lists it
 * (we do), and some add it without `prompt` (the Rust SDK rmcp, Codex, Goose). Their grant then lacks
 * the scope, and their refresh naming it fails with `invalid_scope`. The rule exists so that the
 * user consents to offline access explicitly; Gatehouse keeps that: the request is given
 * `prompt=consent`, the consent page lists "Stay connected" when it is new, and once the user has
 * allowed it (remembered consent), the consent step that only this rewrite asked for completes
 * without a page.
 */

/**
 * Marks an authorization request whose `prompt=consent` the server added (an oidc-provider extra
 * parameter, kept with the interaction). Never taken from the client.
 */
export const OFFLINE_CONSENT_PARAM = 'gatehouse_offline_consent';

/**
 * Rewrites authorization request parameters in place; true when something changed. A client's own
 * marker is dropped; `prompt=none` is left alone (it cannot be combined with consent).
 */
export function requestOfflineAccessConsent(params: URLSearchParams): boolean {
  let changed = false;
  if (params.has(OFFLINE_CONSENT_PARAM)) {
    params.delete(OFFLINE_CONSENT_PARAM);
    changed = true;
  }
  const scopes = (params.get('scope') ?? '').split(' ');
  const prompts = (params.get('prompt') ?? '').split(' ').filter(Boolean);
  if (!scopes.includes('offline_access') || prompts.includes('consent') || prompts.includes('none'))
    return changed;
  params.set('prompt', [...prompts, 'consent'].join(' '));
  params.set(OFFLINE_CONSENT_PARAM, '1');
  return true;
}

/**
 * True when the consent prompt pending for an interaction was asked for only by
 * {@link requestOfflineAccessConsent} and nothing in it is new to the user: it completes unseen.
 */
export function consentAlreadyGiven(details: {
  readonly params: Record<string, unknown>;
  readonly prompt: { readonly name: string; readonly reasons: readonly string[] };
  readonly grantId?: string | undefined;
}): boolean {
  return (
    details.prompt.name === 'consent' &&
    details.params[OFFLINE_CONSENT_PARAM] === '1' &&
    details.grantId !== undefined &&
    details.prompt.reasons.every((reason) => reason === 'consent_prompt')
  );
}
