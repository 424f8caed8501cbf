/** A sign-in page the fuzz can post to: its uid, its CSRF token and the cookies that go with it. */
export interface LiveInteraction {
  readonly uid: string;
  readonly csrf: string;
  /** The Cookie header a browser sends to the page (interaction and session cookies). */
  readonly cookie: string;
  /** The Cookie header a browser sends when resuming the authorization (`/auth/<uid>`). */
  readonly resumeCookie: string;
}

export interface RegisteredClient {
  readonly id: string;
  readonly registrationAccessToken: string;
}

/**
 * What the valid sign-in before the fuzz produced, so that generated requests can mix real
 * values with mangled ones and reach the code behind the first checks.
 */
export interface FuzzContext {
  readonly seed: number;
  readonly issuer: string;
  readonly authPort: number;
  readonly mcpPort: number;
  readonly mcpUrl: string;
  /** A resource with opaque access tokens (introspectable): a name only, nothing listens there. */
  readonly opaqueResource: string;
  readonly redirectUri: string;
  /** The public client of the sign-in: its grant, tokens and codes are the fuzz's to spend. */
  readonly client: RegisteredClient;
  /** A second registered client the fuzz may update or delete with its real token. */
  readonly managedClient: RegisteredClient;
  /** The confidential client from AUTH_CLIENTS (introspection and revocation). */
  readonly confidential: { readonly id: string; readonly secret: string };
  readonly username: string;
  readonly password: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly opaqueAccessToken: string;
  /** Authorization codes not yet exchanged, each with its PKCE verifier. */
  readonly codes: ReadonlyArray<{ readonly code: string; readonly verifier: string }>;
  /** Cookie header of the signed-in browser (session cookies). */
  readonly sessionCookie: string;
  /** An interaction waiting at the login page (not signed in). */
  readonly loginInteraction: LiveInteraction;
  /** An interaction of the signed-in browser waiting at the consent page. */
  readonly consentInteraction: LiveInteraction;
  /**
   * An interaction of its own for the resume step (`/auth/:uid`): resuming an unfinished
   * interaction ends it, which must not end the two above early in the run.
   */
  readonly resumeInteraction: LiveInteraction;
  /**
   * A second signed-in browser of the same user, with its logout form's CSRF token: a real logout
   * ends this session, not the one `sessionCookie` and the consent interaction depend on.
   */
  readonly logout: { readonly cookie: string; readonly xsrf: string };
  /**
   * An access token bound to a DPoP key, with proofs for POST /mcp signed by that key: valid ones
   * (each accepted once, a replay is refused) and ones with a claim wrong.
   */
  readonly dpopBound: {
    readonly accessToken: string;
    readonly proofs: readonly string[];
    readonly badProofs: readonly string[];
  };
  /** Signed DPoP proofs (some with wrong claims) for /mcp and for the token endpoint. */
  readonly dpopProofs: { readonly mcp: readonly string[]; readonly token: readonly string[] };
}
