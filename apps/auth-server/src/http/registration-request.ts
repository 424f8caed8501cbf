import type { Logger } from '@gatehouse/logging';
import { jsonDepthWithin, sendOAuthError } from '@gatehouse/server-kit';
import type { Context, Next } from 'koa';
import { bufferedBody, replayBody } from './body.js';

/**
 * Rewrites a registration request (RFC 7591 POST, RFC 7592 PUT) before oidc-provider reads it, for
 * the two decisions it takes from the raw request rather than from the registered result:
 *
 * - No `token_endpoint_auth_method`: `none` is written into the request. oidc-provider decides
 *   whether to issue a `client_secret` from the raw request, before `clientDefaults` apply, so such a
 *   client was answered `none` *and* a secret; the MCP Go SDK then sent the secret and its token
 *   request failed with `invalid_client`.
 * - `grant_types` / `response_types` we do not offer (some desktop clients add the jwt-bearer grant):
 *   dropped, since RFC 7591 §3.2.1 lets the server replace requested values; the answer shows what
 *   was registered and the log what was dropped. A request left with none of them is refused.
 *
 * Bodies that are not a JSON object (or nest too deeply: the registration guard refuses those) go on
 * unchanged, for oidc-provider's own errors.
 */
export function registrationRequest(deps: {
  readonly path: string;
  readonly grantTypes: readonly string[];
  readonly responseTypes: readonly string[];
  readonly logger: Logger;
}) {
  const supported = {
    grant_types: new Set(deps.grantTypes),
    response_types: new Set(deps.responseTypes),
  };
  return async (ctx: Context, next: Next): Promise<void> => {
    const isCreate = ctx.method === 'POST' && ctx.path === deps.path;
    const isUpdate = ctx.method === 'PUT' && ctx.path.startsWith(`${deps.path}/`);
    const body = bufferedBody(ctx);
    if ((!isCreate && !isUpdate) || !body || !jsonDepthWithin(body.toString('utf8'))) return next();
    const metadata = parseObject(body);
    if (!metadata) return next();
    // The registration guard reads the same metadata (registrationMetadata), parsed once.
    ctx.state.registrationMetadata = metadata;

    const dropped: Record<string, string[]> = {};
    for (const field of ['grant_types', 'response_types'] as const) {
      const requested = metadata[field];
      if (!Array.isArray(requested)) continue;
      const kept = requested.filter((value) => supported[field].has(value as string));
      if (kept.length === requested.length) continue;
      if (kept.length === 0) {
        sendOAuthError(
          ctx,
          400,
          'invalid_client_metadata',
          `${field} must include one of: ${[...supported[field]].join(', ')}`,
        );
        return;
      }
      dropped[field] = requested.filter((value) => !kept.includes(value)).map(String);
      metadata[field] = kept;
    }
    // Only at creation: an update (RFC 7592) without the method keeps oidc-provider's handling.
    const defaulted = isCreate && metadata.token_endpoint_auth_method === undefined;
    if (defaulted) metadata.token_endpoint_auth_method = 'none';
    if (Object.keys(dropped).length > 0)
      deps.logger.info(
        { requestId: ctx.state.requestId, dropped },
        'client registration: values this server does not support were not registered',
      );
    if (defaulted || Object.keys(dropped).length > 0) {
      const rewritten = Buffer.from(JSON.stringify(metadata));
      ctx.state.body = rewritten;
      replayBody(ctx.req, rewritten);
    }
    return next();
  };
}

function parseObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The metadata of a registration request, as rewritten by {@link registrationRequest}, if any. */
export function registrationMetadata(ctx: Context): Record<string, unknown> | undefined {
  const metadata: unknown = ctx.state.registrationMetadata;
  return metadata && typeof metadata === 'object'
    ? (metadata as Record<string, unknown>)
    : undefined;
}
