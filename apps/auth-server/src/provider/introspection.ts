import type { IncomingMessage } from 'node:http';
import { createJwtVerifier, type TokenVerifier, type VerifiedToken } from '@gatehouse/auth-core';
import { sendOAuthError } from '@gatehouse/server-kit';
import type { JWK } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { replayBody, replayedBody } from '../http/body.js';
import {
  type ConfiguredClientAuthOptions,
  configuredSecretClient,
} from './configured-client-auth.js';

/**
 * RFC 7662 introspection and RFC 7009 revocation for every access token we issue, JWTs included,
 * introspection answered the way Keycloak's is (resource servers written for Keycloak, like the
 * tutorial's, read these fields).
 *
 * oidc-provider stores nothing for a JWT access token, and refuses to introspect or revoke one
 * (`unsupported_token_type`). So each JWT carries the id of its grant (`grant_id`), and a
 * middleware in front of the provider's two routes verifies the JWT with our published keys
 * (retired ones too, while published):
 * - introspection checks that the grant is alive and still the token's client's and user's, so a
 *   revoked grant, or one revoked for refresh-token reuse, makes its JWTs inactive at once (a
 *   client-credentials JWT has no grant: its client must still exist);
 * - revocation of a JWT revokes its grant (a JWT cannot be revoked alone: nothing of it is
 *   stored), and with it the refresh tokens and every other JWT of that authorization.
 * Client authentication stays the provider's: the JWT is swapped for a placeholder the provider
 * will not find, and its answer is replaced only when it authenticated the client.
 *
 * Who may introspect a token (both formats): an authenticated client, when the token is its own,
 * or when it is a client the operator configured (`AUTH_CLIENTS`: a resource server). Anyone can
 * register a confidential client, so a registered client learns nothing about others' tokens.
 */

/** The claim naming the grant behind a JWT access token. */
export const GRANT_CLAIM = 'grant_id';

const INACTIVE = { active: false } as const;
/** What an authenticated client hears when it revokes another client's token (oidc-provider's words). */
export const REVOCATION_REFUSED = 'client is not authorized to revoke the presented token';
/** What the provider sees instead of a JWT it would not know; the store adapter answers it unread. */
export const JWT_PLACEHOLDER = 'jwt-introspected-by-gatehouse';
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

interface IntrospectingClient {
  readonly clientId: string;
  readonly clientAuthMethod?: string | undefined;
}

/** Whether `client` may learn about a token issued to `tokenClientId`. */
export type IntrospectionRule = (client: IntrospectingClient, tokenClientId: string) => boolean;

export function introspectionRule(configuredClientIds: Iterable<string>): IntrospectionRule {
  const trusted = new Set(configuredClientIds);
  return (client, tokenClientId) =>
    client.clientAuthMethod !== 'none' &&
    (client.clientId === tokenClientId || trusted.has(client.clientId));
}

/**
 * RFC 7009 §2.1: a client revokes only its own tokens. Another client's token is, for a public
 * client, answered as if unknown (`ignore`), for an authenticated one refused (`refuse`).
 */
export function revocationRule(
  client: IntrospectingClient,
  tokenClientId: string | undefined,
): 'revoke' | 'ignore' | 'refuse' {
  if (tokenClientId === client.clientId) return 'revoke';
  return client.clientAuthMethod === 'none' ? 'ignore' : 'refuse';
}

/** A grant as the provider's `Grant.find` gives it: what the checks here read. */
export interface GrantLike {
  readonly accountId?: string | undefined;
  readonly clientId?: string | undefined;
  getOIDCScope(): string;
}
export type FindGrant = (grantId: string) => Promise<GrantLike | undefined>;

/**
 * The grant behind a verified user token, when it is alive and still that token's client's and
 * user's; undefined otherwise (revoked, expired, or a token without a grant).
 */
export async function liveGrantOf(
  verified: VerifiedToken,
  findGrant: FindGrant,
): Promise<GrantLike | undefined> {
  const grantId = verified.claims[GRANT_CLAIM];
  if (typeof grantId !== 'string') return undefined;
  const grant = await findGrant(grantId);
  if (!grant || grant.clientId !== verified.clientId || grant.accountId !== verified.subject)
    return undefined;
  return grant;
}

/** formats.customizers.jwt: the grant id goes into every JWT access token that has a grant. */
export function addGrantClaim(
  _ctx: unknown,
  token: { grantId?: string },
  jwt: { payload: Record<string, unknown> },
): void {
  if (token.grantId) jwt.payload[GRANT_CLAIM] = token.grantId;
}

/** The strict verifier (auth-core) over our own published keys, for every resource's audience. */
export function ownTokenVerifier(options: {
  issuer: string;
  audiences: readonly string[];
  jwks: { keys: JWK[] };
}): TokenVerifier {
  const keys = options.jwks.keys.map((key) => {
    const published: JWK = { ...key };
    for (const member of PRIVATE_MEMBERS) delete published[member];
    return published;
  });
  return createJwtVerifier({
    issuer: options.issuer,
    audience: [...options.audiences],
    jwks: { keys },
    // Our own clock issued these tokens: no leeway past their expiry.
    clockToleranceSec: 0,
  });
}

/** The body the app in front buffered (http/body.ts), else read from the stream. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const buffered = replayedBody(req);
  if (buffered) return buffered;
  const chunks: Buffer[] = [];
  for await (const chunk of req.iterator()) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

type Answer = Record<string, unknown>;

/** The middleware for `provider.use` (it runs before the provider's routes). */
export function jwtIntrospectionAndRevocation(
  options: {
    readonly introspectionPath: string;
    readonly revocationPath: string;
    readonly verifier: TokenVerifier;
    readonly mayIntrospect: IntrospectionRule;
    readonly findGrant: FindGrant;
  } & ConfiguredClientAuthOptions,
) {
  const verify = (token: string) => options.verifier.verify(token).catch(() => undefined);

  async function answerForJwt(client: IntrospectingClient, token: string): Promise<Answer> {
    // Not ours, tampered, expired, or signed with a key no longer published: inactive.
    const verified = await verify(token);
    if (!verified || !options.mayIntrospect(client, verified.clientId)) return INACTIVE;
    const claims = verified.claims;
    // A user's token: its grant must be alive. Client credentials (no user, `sub` is the client,
    // RFC 9068 §2.2; no grant): its client must still exist.
    const user = typeof claims[GRANT_CLAIM] === 'string';
    if (user) {
      if (!(await liveGrantOf(verified, options.findGrant))) return INACTIVE;
    } else if (
      verified.subject !== verified.clientId ||
      !(await options.findClient(verified.clientId))
    ) {
      return INACTIVE;
    }
    return {
      active: true,
      iss: claims.iss,
      sub: verified.subject,
      ...(user ? { username: verified.subject } : {}),
      client_id: verified.clientId,
      aud: claims.aud,
      scope: verified.scopes.join(' '),
      exp: claims.exp,
      iat: claims.iat,
      ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}),
      jti: claims.jti,
      token_type: verified.dpopJkt ? 'DPoP' : 'Bearer',
      ...(claims.cnf !== undefined ? { cnf: claims.cnf } : {}),
    };
  }

  /** RFC 7009 for a JWT: its own client revokes its grant; an invalid token is no error. */
  async function revokeJwt(ctx: KoaContextWithOIDC, token: string): Promise<void> {
    const client = ctx.oidc.client;
    const verified = await verify(token);
    const grantId = verified?.claims[GRANT_CLAIM];
    if (!verified || !client || typeof grantId !== 'string') return;
    const decision = revocationRule(client, verified.clientId);
    if (decision === 'refuse') sendOAuthError(ctx, 400, 'invalid_request', REVOCATION_REFUSED);
    if (decision !== 'revoke') return;
    const { provider } = ctx.oidc;
    await Promise.all([
      provider.AccessToken.revokeByGrantId(grantId),
      provider.RefreshToken.revokeByGrantId(grantId),
      provider.AuthorizationCode.revokeByGrantId(grantId),
      provider.Grant.adapter.destroy(grantId),
    ]);
    provider.emit('grant.revoked', ctx, grantId);
  }

  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    const route =
      ctx.path === options.introspectionPath
        ? 'introspection'
        : ctx.path === options.revocationPath
          ? 'revocation'
          : undefined;
    if (!route || ctx.method !== 'POST') return next();
    if (!ctx.is('application/x-www-form-urlencoded')) return next();
    const raw = await readBody(ctx.req);
    const params = new URLSearchParams(raw.toString('utf8'));
    const tokens = params.getAll('token');
    const jwt = tokens.length === 1 && JWS_COMPACT.test(tokens[0] ?? '') ? tokens[0] : undefined;
    if (jwt && route === 'introspection') {
      // A configured resource server with its secret: answered here (configured-client-auth.ts).
      const client = await configuredSecretClient(ctx.request, params, options);
      if (client) {
        ctx.set('cache-control', 'no-store');
        ctx.body = await answerForJwt(client, jwt);
        return;
      }
    }
    if (jwt) params.set('token', JWT_PLACEHOLDER);
    replayBody(ctx.req, jwt ? Buffer.from(params.toString()) : raw);
    await next();
    if (ctx.status !== 200 || !ctx.oidc?.client) return;
    if (route === 'revocation') {
      if (jwt) await revokeJwt(ctx, jwt);
      return;
    }
    if (jwt) {
      ctx.body = await answerForJwt(ctx.oidc.client, jwt);
      return;
    }
    // Opaque tokens: the provider's answer, with Keycloak's `username` beside `sub`.
    const body = ctx.body as Answer | undefined;
    if (body?.active === true && typeof body.sub === 'string')
      ctx.body = { ...body, username: body.sub };
  };
}
