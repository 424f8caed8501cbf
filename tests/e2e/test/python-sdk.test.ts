import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UserAgent } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * The Python MCP SDK (PyPI `mcp`, pinned in python/requirements.txt) with its own OAuth client:
 * a second, independent implementation. The script prints the authorization URL; the headless user
 * agent signs in and consents and hands the callback URL back on the script's stdin.
 * `npm test` installs the SDK into .tools/python and passes its interpreter as GATEHOUSE_PYTHON.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

function python(): string {
  const path = process.env.GATEHOUSE_PYTHON;
  if (!path || !existsSync(path)) {
    throw new Error(
      'the Python MCP SDK is not installed: run the tests with `npm test` (it creates .tools/python) or set GATEHOUSE_PYTHON',
    );
  }
  return path;
}

describe('Python MCP SDK client', () => {
  it('authorizes (checking iss), lists the tools and adds two numbers', async () => {
    const script = new URL('../python/oauth_client.py', import.meta.url).pathname;
    const child = spawn(python(), [script, stack.mcpUrl], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let result: { tools: string[]; sum: number } | undefined;
    let authorization: URL | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('AUTHORIZE ')) {
        authorization = new URL(line.slice('AUTHORIZE '.length));
        const redirectUri = authorization.searchParams.get('redirect_uri') ?? '';
        const ua = new UserAgent();
        const atCallback = (url: string) => url.startsWith(redirectUri);
        const page = await ua.authorize(authorization.href, atCallback, ALICE);
        child.stdin.write(`${page.url}\n`);
      } else if (line.startsWith('RESULT ')) {
        result = JSON.parse(line.slice('RESULT '.length));
      } else if (line.startsWith('ERROR ')) {
        throw new Error(`${line}\n${stderr}`);
      }
    }
    expect(authorization?.searchParams.get('resource')).toBe(stack.mcpUrl);
    expect(authorization?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(result).toEqual({
      tools: ['add_numbers', 'multiply_numbers', 'server_status', 'whoami'],
      sum: 5,
    });
  }, 60_000);
});
