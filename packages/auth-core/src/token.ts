/** What a verifier learned from a valid access token, whichever way it was checked. */
export interface VerifiedToken {
  readonly issuer: string;
  /** `sub`, when the token has one. */
  readonly subject: string | undefined;
  /** `client_id` (RFC 9068), else `azp` (Keycloak), else the empty string. */
  readonly clientId: string;
  readonly scopes: string[];
  /** `exp` in seconds since the epoch, when known. */
  readonly expiresAt: number | undefined;
  /** `cnf.jkt` (RFC 9449): the thumbprint of the key a DPoP proof must be signed with. */
  readonly dpopJkt: string | undefined;
  /** All claims (JWT payload or introspection response). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** JWT mode and introspection mode behind one interface, so an app switches by configuration. */
export interface TokenVerifier {
  readonly mode: 'jwt' | 'introspection';
  /**
   * Verifies an access token; resolves with what it grants or rejects with an `AuthError`
   * (`InvalidTokenError` for a bad token, `TemporarilyUnavailableError` when the authorization
   * server cannot be reached to check it).
   */
  verify(token: string): Promise<VerifiedToken>;
  /** Fetches what verification needs (metadata, keys) ahead of the first request. */
  warm(): Promise<void>;
}
