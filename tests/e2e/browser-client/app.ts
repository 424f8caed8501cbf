/**
 * A browser MCP client: the MCP TypeScript SDK v2 client (`@modelcontextprotocol/client`, bundled
 * for the browser by esbuild) running in a page on an origin of its own. Everything the SDK does
 * for OAuth (protected resource metadata, authorization server metadata, registration, token,
 * refresh) and every MCP request is a cross-origin fetch from this page, so Chromium enforces CORS
 * on each, as it would for a web app that connects to an MCP server.
 *
 * The user's journey is kept in sessionStorage across the full-page redirects to the authorization
 * server: `start` -> sign in -> `/callback` (`first`: call a tool, refresh, call the admin tool,
 * which steps up) -> sign in again -> `/callback` (`step-up`: call the admin tool). What each step
 * got is written into `#log` as JSON lines for the test to read; `#done` appears at the end.
 */
import {
  Client,
  type OAuthClientInformationMixed,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthTokens,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';

const stored = <T>(key: string): T | undefined => {
  const value = sessionStorage.getItem(key);
  return value === null ? undefined : (JSON.parse(value) as T);
};
const store = (key: string, value: unknown) => sessionStorage.setItem(key, JSON.stringify(value));

/** The SDK's OAuth client provider for a page: state in sessionStorage, redirects by navigation. */
class PageOAuthProvider implements OAuthClientProvider {
  /** Set when the page leaves for the authorization server (the SDK then rejects the call). */
  leaving = false;
  get redirectUrl(): string {
    return `${location.origin}/callback`;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Gatehouse browser client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state(): string {
    const state = crypto.randomUUID();
    store('state', state);
    return state;
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return stored('client');
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    store('client', info);
  }
  tokens(): OAuthTokens | undefined {
    return stored('tokens');
  }
  saveTokens(tokens: OAuthTokens): void {
    store('tokens', tokens);
    log({
      event: 'tokens',
      scope: tokens.scope,
      refresh: typeof tokens.refresh_token === 'string',
    });
  }
  redirectToAuthorization(url: URL): void {
    log({ event: 'authorize', scope: url.searchParams.get('scope') });
    this.leaving = true;
    location.assign(url.href);
  }
  saveCodeVerifier(verifier: string): void {
    store('verifier', verifier);
  }
  codeVerifier(): string {
    return stored<string>('verifier') ?? '';
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') sessionStorage.removeItem('tokens');
    if (scope === 'all' || scope === 'client') sessionStorage.removeItem('client');
    if (scope === 'all' || scope === 'verifier') sessionStorage.removeItem('verifier');
  }
}

function log(entry: Record<string, unknown>): void {
  const lines = [...(stored<Record<string, unknown>[]>('log') ?? []), entry];
  store('log', lines);
  render();
}

function render(): void {
  const element = document.getElementById('log');
  if (element)
    element.textContent = (stored<unknown[]>('log') ?? []).map((e) => JSON.stringify(e)).join('\n');
}

const provider = new PageOAuthProvider();

async function connect(mcpUrl: string): Promise<Client> {
  const client = new Client({ name: 'gatehouse-browser-client', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }),
  );
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args });
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
  log({ event: 'tool', name, isError: result.isError === true, text });
}

async function run(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (params.has('mcp')) {
    sessionStorage.clear();
    store('mcp', params.get('mcp'));
    store('phase', 'first');
  }
  const mcpUrl = stored<string>('mcp');
  if (!mcpUrl) throw new Error('open this page with ?mcp=<MCP server URL>');
  const phase = stored<string>('phase');
  if (location.pathname === '/callback') {
    if (params.get('state') !== stored('state')) throw new Error('state does not match');
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
      authProvider: provider,
    });
    await transport.finishAuth(params); // code, state and RFC 9207 iss
    history.replaceState(null, '', '/'); // a reload must not redeem the code again
    const client = await connect(mcpUrl);
    if (phase === 'first') {
      await call(client, 'add_numbers', { a: 2, b: 3 });
      // The access token stops working (expired, revoked): the next call gets 401 and the SDK
      // refreshes from the page.
      const tokens = stored<OAuthTokens>('tokens');
      if (tokens) store('tokens', { ...tokens, access_token: 'no-longer-valid' });
      await call(client, 'multiply_numbers', { x: 4, y: 5 });
      // The admin tool answers 403 insufficient_scope; the SDK re-authorizes with both scopes.
      store('phase', 'step-up');
      await call(client, 'server_status');
    } else {
      await call(client, 'server_status');
      log({ event: 'done' });
      document.body.insertAdjacentHTML('beforeend', '<p id="done">done</p>');
    }
    return;
  }
  await connect(mcpUrl); // 401 -> discovery, registration, redirect to sign in
}

render();
run().catch((error: unknown) => {
  // Leaving for the authorization server rejects the pending call: that is not a failure.
  if (provider.leaving && error instanceof UnauthorizedError) return;
  log({ event: 'error', message: error instanceof Error ? error.message : String(error) });
});
