import { randomUUID } from 'node:crypto';
import { type HeadlessLogin, UserAgent } from './user-agent.js';

/**
 * An OAuth client provider for the MCP SDK clients (v1 `@modelcontextprotocol/sdk` and v2
 * `@modelcontextprotocol/client` share these members), driven headlessly: when the SDK asks to
 * redirect the user, the user agent signs in and consents (or denies) on the authorization server's
 * real pages and follows redirects until the client's redirect URI. It then checks `state` and
 * RFC 9207 `iss` itself (v1 does neither) and keeps the callback parameters for `finishAuth`.
 * Typed structurally, so the testkit needs neither SDK.
 */

export interface ClientMetadata {
  readonly client_name: string;
  readonly redirect_uris: string[];
  readonly grant_types?: string[];
  readonly response_types?: string[];
  readonly token_endpoint_auth_method?: string;
  readonly application_type?: string;
  readonly scope?: string;
  readonly [key: string]: unknown;
}

export class HeadlessOAuthProvider {
  readonly userAgent = new UserAgent();
  readonly redirectUri: string;
  readonly login: HeadlessLogin;
  /** Every authorization URL the SDK sent the "user" to, in order. */
  readonly authorizationUrls: URL[] = [];
  /** The parameters of the last redirect back to the client (`code`, `state`, `iss`). */
  callbackParams: URLSearchParams | undefined;
  #metadata: ClientMetadata;
  #client: Record<string, unknown> | undefined;
  #tokens: Record<string, unknown> | undefined;
  #verifier = '';
  #state = '';
  /** Expected RFC 9207 `iss` of authorization responses. */
  readonly #issuer: string;

  constructor(options: {
    issuer: string;
    login: HeadlessLogin;
    redirectUri?: string;
    clientMetadata?: Partial<ClientMetadata>;
  }) {
    this.#issuer = options.issuer;
    this.login = options.login;
    this.redirectUri = options.redirectUri ?? 'http://127.0.0.1:33418/callback';
    this.#metadata = {
      client_name: 'Gatehouse test client',
      redirect_uris: [this.redirectUri],
      ...options.clientMetadata,
    };
  }

  get redirectUrl(): string {
    return this.redirectUri;
  }

  get clientMetadata(): ClientMetadata {
    return this.#metadata;
  }

  state(): string {
    this.#state = randomUUID();
    return this.#state;
  }

  clientInformation(): Record<string, unknown> | undefined {
    return this.#client;
  }

  saveClientInformation(info: Record<string, unknown>): void {
    this.#client = info;
  }

  tokens(): Record<string, unknown> | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: Record<string, unknown>): void {
    this.#tokens = tokens;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    return this.#verifier;
  }

  #discovery: unknown;

  /** Kept with the code verifier so the SDK can bind the callback to the server it discovered. */
  saveDiscoveryState(state: unknown): void {
    this.#discovery = state;
  }

  discoveryState(): unknown {
    return this.#discovery;
  }

  /** Called by the SDKs when the server rejected what they held. */
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = '';
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }

  /** The refresh token currently held, if any. */
  get refreshToken(): string | undefined {
    const value = this.#tokens?.refresh_token;
    return typeof value === 'string' ? value : undefined;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    const atCallback = (target: string) => target.startsWith(this.redirectUri);
    const page = await this.userAgent.authorize(url.href, atCallback, this.login);
    if (!atCallback(page.url))
      throw new Error(
        `authorization did not return to ${this.redirectUri}: stopped at ${page.url} (HTTP ${page.status})`,
      );
    const params = new URL(page.url).searchParams;
    if (params.get('state') !== this.#state)
      throw new Error('authorization response state does not match');
    if (params.get('iss') !== this.#issuer)
      throw new Error(`authorization response iss ${params.get('iss')} is not ${this.#issuer}`);
    this.callbackParams = params;
  }

  /** The authorization code of the last callback (throws when the server returned an error). */
  get code(): string {
    const code = this.callbackParams?.get('code');
    if (!code)
      throw new Error(
        `no authorization code: ${this.callbackParams?.get('error') ?? 'no callback yet'}`,
      );
    return code;
  }
}
