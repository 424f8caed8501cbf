/** What the resource server hands to tool handlers; never logged, since it holds the token. */
export type AuthInfoExtra = {
  /** `sub` of the token: the user (or, for client-credentials tokens, the client). */
  readonly subject: string | undefined;
  readonly issuer: string;
  /** How the token was presented: `DPoP` when sender-constrained. */
  readonly tokenType: 'Bearer' | 'DPoP';
  /** All claims of the token, or of the introspection answer. */
  readonly claims: Readonly<Record<string, unknown>>;
};

/**
 * The MCP SDK's `AuthInfo` shape (v1 `@modelcontextprotocol/sdk` and v2 `@modelcontextprotocol/server`),
 * so it can be handed to the SDK's transports as `req.auth` / `authInfo` unchanged.
 */
export type AuthInfo = {
  /** The access token, for the SDK; a tool must never forward it upstream (MCP: no token passthrough). */
  readonly token: string;
  readonly clientId: string;
  readonly scopes: string[];
  /** Seconds since the epoch. */
  expiresAt?: number;
  /** This resource server's canonical URI: the audience the token was checked against. */
  resource?: URL;
  resourceMetadataUrl?: string;
  extra: AuthInfoExtra;
};
