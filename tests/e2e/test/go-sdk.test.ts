import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { freePort, UserAgent } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * The MCP Go SDK's own OAuth client (`auth.NewAuthorizationCodeHandler`, v1.8.0), built by the test
 * command from `tests/e2e/go-client` (the SDK's example with its Dynamic Client Registration
 * enabled as written) through the Go module proxy. It registers without
 * `token_endpoint_auth_method` and sends any `client_secret` the registration answer contains, so
 * it is the client that found the secret-for-a-public-client defect. The test only plays the user
 * in the browser step.
 */

const ACCESS_TOKEN_TTL = 15;
// x/oauth2 treats a token as expired 10 s early: after this idle time the SDK must refresh.
const IDLE = `${ACCESS_TOKEN_TTL - 10 + 3}s`;

let stack: Stack;
let binary: string;
beforeAll(async () => {
  // Built by `npm test` (scripts/workspace.mjs) before the suites start.
  const built = process.env.GATEHOUSE_GO_CLIENT;
  if (!built || !existsSync(built))
    throw new Error(
      'the Go SDK client is not built: run the tests with `npm test` (it builds tests/e2e/go-client into .tools/go-client; needs Go 1.25+, https://go.dev/dl) or set GATEHOUSE_GO_CLIENT',
    );
  binary = built;
  stack = await startStack({ authEnv: { AUTH_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL) } });
});
afterAll(() => stack?.stop());

describe('MCP Go SDK client (its own OAuth, default configuration)', () => {
  it('registers, authorizes, calls tools, refreshes on its own and steps up to mcp:admin', async () => {
    const callbackPort = await freePort();
    const child = spawn(
      binary,
      [`-server_url=${stack.mcpUrl}`, `-callback_port=${callbackPort}`, `-idle=${IDLE}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // One browser for the whole run: at step-up the user is still signed in and only consents.
    const ua = new UserAgent();
    const authorizations: URL[] = [];
    const results: string[] = [];
    try {
      for await (const line of createInterface({ input: child.stdout })) {
        const open = /^Please open the following URL in your browser: (\S+)$/.exec(line);
        if (open?.[1]) {
          const authorization = new URL(open[1]);
          authorizations.push(authorization);
          const redirectUri = authorization.searchParams.get('redirect_uri') ?? '';
          const page = await ua.authorize(
            authorization.href,
            (url) => url.startsWith(redirectUri),
            ALICE,
          );
          expect(page.url.startsWith(redirectUri), `stopped at ${page.url}: ${page.body}`).toBe(
            true,
          );
          await fetch(page.url); // deliver the redirect to the client's callback server
        } else if (line.startsWith('RESULT ')) {
          results.push(line.slice('RESULT '.length));
        } else if (line === 'DONE') {
          break;
        }
      }
      expect(await exited, stderr).toBe(0);
    } finally {
      child.kill();
    }

    const [first, stepUp, ...more] = authorizations;
    expect(more, 'one authorization, then one step-up: no other browser trip').toEqual([]);
    expect(first?.searchParams.get('redirect_uri')).toBe(`http://localhost:${callbackPort}`);
    expect(first?.searchParams.get('resource')).toBe(stack.mcpUrl);
    expect(first?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(first?.searchParams.get('scope')).toBe('mcp:tools');
    expect(stepUp?.searchParams.get('scope')?.split(' ').sort()).toEqual([
      'mcp:admin',
      'mcp:tools',
    ]);

    const [tools, whoamiBefore, sum, whoamiAfter, status, ...rest] = results;
    expect(rest).toEqual([]);
    expect(tools?.replace('tools: ', '').split(',').sort()).toEqual([
      'add_numbers',
      'multiply_numbers',
      'server_status',
      'whoami',
    ]);
    expect(whoamiBefore).toMatch(/^whoami isError=false: You are alice via client pub_/);
    expect(sum).toBe('add_numbers isError=false: 2 + 3 = 5');
    // A new access token without a new authorization: the SDK refreshed it.
    const expiry = (text?: string) => /token expires (\S+)\./.exec(text ?? '')?.[1];
    expect(whoamiAfter).toMatch(/^whoami isError=false: /);
    expect(expiry(whoamiAfter)).not.toBe(expiry(whoamiBefore));
    expect(status).toMatch(/^server_status isError=false: /);
  }, 120_000);
});
