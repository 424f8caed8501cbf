import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** A confidential client's key for `private_key_jwt` (RFC 7523 client authentication). */
export interface ClientAssertionKey {
  /** The public JWKS to publish at the client's `jwks_uri`. */
  readonly jwks: { keys: JWK[] };
  /** A fresh client assertion for `clientId`, audience the token endpoint (or the issuer). */
  assertion(clientId: string, audience: string): Promise<string>;
}

export async function createClientAssertionKey(alg = 'RS256'): Promise<ClientAssertionKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = crypto.randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    assertion: (clientId, audience) =>
      new SignJWT({})
        .setProtectedHeader({ alg, kid })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(audience)
        .setJti(crypto.randomUUID())
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(privateKey),
  };
}
