import type { HeadlessOAuthProvider } from '@gatehouse/testkit';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

/** A v2 SDK client connected to `mcpUrl` with `provider` as its OAuth client provider. */
export async function connectV2(
  mcpUrl: string,
  provider: HeadlessOAuthProvider,
  name = 'gatehouse-e2e-v2',
): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider as never }),
  );
  return client;
}

/** Completes the authorization the SDK sent the user through (the provider holds the callback). */
export async function finishAuthV2(mcpUrl: string, provider: HeadlessOAuthProvider): Promise<void> {
  if (!provider.callbackParams) throw new Error('no authorization callback to finish');
  await new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: provider as never,
  }).finishAuth(provider.callbackParams);
}
