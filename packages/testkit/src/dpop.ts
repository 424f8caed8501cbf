import { randomUUID } from 'node:crypto';
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose';

/** A DPoP key pair as a client holds it, with the thumbprint its tokens are bound to (`cnf.jkt`). */
export interface DpopHolder {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly jkt: string;
}

export async function createDpopHolder(): Promise<DpopHolder> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

/**
 * A DPoP proof (RFC 9449) for one request with `token`: fresh `jti`, `iat` now, `ath` of the token,
 * signed ES256 with the holder's key in the header. `claims` and `header` override fields, so tests
 * can build every kind of bad proof.
 */
export async function createDpopProof(
  holder: Pick<DpopHolder, 'privateKey' | 'publicJwk'>,
  token: string,
  options: {
    htu: string;
    htm?: string;
    claims?: Record<string, unknown>;
    header?: Record<string, unknown>;
  },
): Promise<string> {
  const ath = base64url.encode(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))),
  );
  return new SignJWT({
    jti: randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu,
    iat: Math.floor(Date.now() / 1000),
    ath,
    ...options.claims,
  })
    .setProtectedHeader({
      alg: 'ES256',
      typ: 'dpop+jwt',
      jwk: holder.publicJwk,
      ...options.header,
    } as { alg: string })
    .sign(holder.privateKey);
}
