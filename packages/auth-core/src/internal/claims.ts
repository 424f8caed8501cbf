import { InvalidTokenError } from '../errors.js';
import { parseScopes } from '../scopes.js';
import type { VerifiedToken } from '../token.js';

/** Claim checks shared by JWT and introspection mode, so both refuse the same tokens. */

export function checkAudience(
  claims: Readonly<Record<string, unknown>>,
  matchesAudience: (audience: unknown) => boolean,
  expected: readonly string[],
): void {
  const { aud } = claims;
  if (aud === undefined || aud === null || (Array.isArray(aud) && aud.length === 0)) {
    throw new InvalidTokenError('missing_audience', 'token has no aud claim');
  }
  if (!matchesAudience(aud)) {
    throw new InvalidTokenError(
      'audience_mismatch',
      `token aud ${JSON.stringify(aud)} does not contain ${JSON.stringify(expected)}`,
    );
  }
}

/** `exp` in the past, `nbf` or `iat` in the future (each beyond the leeway) are refused. */
export function checkTimes(
  claims: Readonly<Record<string, unknown>>,
  nowSec: number,
  leewaySec: number,
  requireExp: boolean,
): void {
  const exp = numericDate(claims, 'exp');
  const nbf = numericDate(claims, 'nbf');
  const iat = numericDate(claims, 'iat');
  if (exp === undefined) {
    if (requireExp) throw new InvalidTokenError('missing_claim', 'token has no exp claim');
  } else if (exp <= nowSec - leewaySec) {
    throw new InvalidTokenError('token_expired', `token expired at ${exp}, now ${nowSec}`);
  }
  if (nbf !== undefined && nbf > nowSec + leewaySec) {
    throw new InvalidTokenError('token_not_yet_valid', `token nbf ${nbf} is after now ${nowSec}`);
  }
  if (iat !== undefined && iat > nowSec + leewaySec) {
    throw new InvalidTokenError('issued_in_future', `token iat ${iat} is after now ${nowSec}`);
  }
}

function numericDate(claims: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidTokenError('invalid_claim', `token ${name} claim is not a NumericDate`);
  }
  return value;
}

/** Reads `cnf`: a DPoP key thumbprint, or a refusal of confirmation methods this package cannot check. */
export function readConfirmation(claims: Readonly<Record<string, unknown>>): string | undefined {
  const { cnf } = claims;
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
    throw new InvalidTokenError('invalid_claim', 'token cnf claim is not an object');
  }
  const { jkt, ...others } = cnf as Record<string, unknown>;
  // A token bound to a certificate or another key type must never degrade to a bearer token.
  if (Object.keys(others).length > 0) {
    throw new InvalidTokenError(
      'invalid_claim',
      `token is bound by an unsupported confirmation method: ${Object.keys(others).join(', ')}`,
    );
  }
  if (jkt === undefined) return undefined;
  if (typeof jkt !== 'string' || jkt === '') {
    throw new InvalidTokenError('invalid_claim', 'token cnf.jkt is not a string');
  }
  return jkt;
}

export function toVerifiedToken(
  claims: Readonly<Record<string, unknown>>,
  issuer: string,
): VerifiedToken {
  const clientId = stringClaim(claims, 'client_id') ?? stringClaim(claims, 'azp') ?? '';
  const exp = claims.exp;
  return {
    issuer,
    subject: stringClaim(claims, 'sub'),
    clientId,
    scopes: parseScopes(claims),
    expiresAt: typeof exp === 'number' ? exp : undefined,
    dpopJkt: readConfirmation(claims),
    claims,
  };
}

function stringClaim(claims: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
