import type { Finding } from './findings.js';
import { authorize, callTool, exchangeCode, refresh, registerClient, UserAgent } from './flows.js';
import type { Preserved } from './prepare.js';
import type { SecretRegistry } from './secrets.js';
import type { FuzzStack, StackCredentials } from './stack.js';

/**
 * After the fuzz, the servers must still do their job: a new client signs in through the pages and
 * calls a tool, and the refresh token minted before the fuzz (and never sent by it) still refreshes
 * into an access token /mcp accepts. Each broken step is a finding.
 */
export async function checkAfterFuzz(
  stack: FuzzStack,
  credentials: StackCredentials,
  preserved: Preserved,
  secrets: SecretRegistry,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const step = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      findings.push({ kind: 'post-fuzz-flow', endpoint: name, detail: (error as Error).message });
    }
  };
  const { issuer, mcpUrl } = stack;
  await step('register, sign in, consent, exchange, call a tool', async () => {
    const client = await registerClient(issuer, secrets, 'after the fuzz');
    const grant = await authorize(
      issuer,
      new UserAgent(),
      { clientId: client.clientId, resource: mcpUrl, scope: 'mcp:tools', user: credentials.carol },
      secrets,
    );
    const tokens = await exchangeCode(issuer, client.clientId, grant, mcpUrl, secrets);
    const call = await callTool(mcpUrl, tokens.accessToken, 'add_numbers', { a: 2, b: 3 });
    if (call.status !== 200 || !call.text.includes('"sum":5'))
      throw new Error(`tool call answered HTTP ${call.status}: ${call.text.slice(0, 300)}`);
  });
  await step('refresh the token minted before the fuzz, call a tool', async () => {
    const tokens = await refresh(issuer, preserved.clientId, preserved.refreshToken, secrets);
    const call = await callTool(mcpUrl, tokens.accessToken, 'whoami', {});
    if (call.status !== 200 || !call.text.includes(`"subject":"${credentials.bob.username}"`))
      throw new Error(`tool call answered HTTP ${call.status}: ${call.text.slice(0, 300)}`);
  });
  return findings;
}
