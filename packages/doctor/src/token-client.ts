import { decodeJwt, type JWTPayload } from 'jose';
import { type Exchange, exchange, jsonObject } from './http.js';
import { sameResource, stringField, type Walk } from './walk.js';

/** What a token endpoint answered, and the parts the checks judge. */
export interface TokenAnswer {
  readonly exchange: Exchange;
  readonly ok: boolean;
  readonly error?: string;
  readonly accessToken?: string;
  readonly refreshToken?: string;
  readonly scope?: string;
  readonly expiresIn?: number;
  readonly tokenType?: string;
}

/** Posts to the token endpoint as the doctor's client (public, or with the secret it was given). */
export async function tokenRequest(
  walk: Walk,
  params: Record<string, string | undefined>,
): Promise<TokenAnswer> {
  const endpoint =
    walk.authorizationServer && stringField(walk.authorizationServer.document, 'token_endpoint');
  const client = walk.client;
  if (!endpoint || !client) throw new Error('no token endpoint or client');
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) body.set(name, value);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (client.clientSecret) {
    const encode = (v: string) => encodeURIComponent(v);
    headers.authorization = `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`;
  } else {
    body.set('client_id', client.clientId);
  }
  const answer = await exchange(endpoint, { body, headers });
  const json = jsonObject(answer) ?? {};
  const accessToken = stringField(json, 'access_token');
  const refreshToken = stringField(json, 'refresh_token');
  const scope = stringField(json, 'scope');
  const tokenType = stringField(json, 'token_type');
  const error = stringField(json, 'error');
  const description = stringField(json, 'error_description');
  return {
    exchange: answer,
    ok: answer.status === 200 && accessToken !== undefined,
    ...(accessToken ? { accessToken } : {}),
    ...(refreshToken ? { refreshToken } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(typeof json.expires_in === 'number' ? { expiresIn: json.expires_in } : {}),
    ...(tokenType ? { tokenType } : {}),
    ...(error ? { error: description ? `${error}: ${description}` : error } : {}),
  };
}

/** The access token's claims, when it is a JWT; undefined for an opaque token. */
export function accessTokenClaims(token: string): JWTPayload | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

/** The scopes a token carries: its `scope` claim (RFC 9068) or `scp`, else the token answer's `scope`. */
export function grantedScopes(answer: TokenAnswer): string[] | undefined {
  const claims = answer.accessToken ? accessTokenClaims(answer.accessToken) : undefined;
  if (typeof claims?.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims?.scp))
    return claims.scp.filter((s): s is string => typeof s === 'string');
  return answer.scope?.split(' ').filter(Boolean);
}

/** Whether the token names `resource` among its audiences (compared as clients compare resources). */
export function hasAudience(claims: JWTPayload, resource: string): boolean {
  return audiences(claims).some((aud) => sameResource(aud, resource));
}

export function audiences(claims: JWTPayload): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud : [];
}
