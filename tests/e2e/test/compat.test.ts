import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type ClientFixture, loadCorpus, type ReplayStep } from '@gatehouse/doctor';
import {
  createClientAssertionKey,
  createPkce,
  selfSignedCertificate,
  UserAgent,
} from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeMarkdown, type ReplayResult, renderMatrix } from '../compat/matrix.js';
import { ALICE, type Stack, startStack } from './stack.js';

/**
 * The compatibility corpus (issue 13): every real client in `packages/doctor/corpus/`, replayed as it
 * really behaves against the real authorization server and MCP server: 401 and metadata ->
 * registration (DCR, or its Client ID Metadata Document served over https) -> authorization with
 * the redirect URI it really uses -> sign-in and consent -> token -> tools/call -> refresh as it
 * refreshes -> step-up as it steps up. A failing step is a Gatehouse bug unless the fixture names the
 * client's own limitation that explains it.
 */

const fixtures: readonly ClientFixture[] = loadCorpus();

let stack: Stack;
let documents: Server;
let documentsBase: string;
const served = new Map<string, unknown>();

beforeAll(async () => {
  const tls = selfSignedCertificate();
  documents = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const body = served.get(req.url ?? '');
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve));
  documentsBase = `https://localhost:${(documents.address() as AddressInfo).port}`;
  stack = await startStack({
    authEnv: {
      // Every fixture registers from this one address; the limits are not under test here.
      AUTH_REGISTRATION_RATE_LIMIT: '1000',
      AUTH_TOKEN_RATE_LIMIT: '100000',
      AUTH_CIMD_ALLOWED_HOSTS: 'localhost',
      NODE_EXTRA_CA_CERTS: tls.certPath,
    },
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  documents?.close();
});

interface Challenge {
  readonly status: number;
  readonly scope: string | undefined;
  readonly error: string | undefined;
  readonly resourceMetadata: string | undefined;
}

/** A JSON-RPC call to the MCP server as a client sends it, with the answer's challenge if any. */
async function mcp(
  token: string | undefined,
  method: string,
  params: Record<string, unknown> = {},
): Promise<{ challenge: Challenge; result: Record<string, unknown> | undefined }> {
  const response = await fetch(stack.mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const header = response.headers.get('www-authenticate') ?? '';
  const param = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(header)?.[1];
  const text = await response.text();
  const json = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .find((line) => line.startsWith('data: '))
        ?.slice(6);
  return {
    challenge: {
      status: response.status,
      scope: param('scope'),
      error: param('error'),
      resourceMetadata: param('resource_metadata'),
    },
    result: json
      ? ((JSON.parse(json) as { result?: Record<string, unknown> }).result ?? undefined)
      : undefined,
  };
}

const form = async (url: string, params: Record<string, string>, basic?: [string, string]) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(basic
        ? { authorization: `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}` }
        : {}),
    },
    body: new URLSearchParams(params),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, string | number | undefined>,
  };
};

/** A step that failed as a fixture's named limitation says it does: the replay ends there. */
class LimitationReached extends Error {
  constructor(
    readonly step: ReplayStep,
    readonly limitation: string,
  ) {
    super(`${step}: ${limitation}`);
  }
}

/** What each replay proved, for docs/clients.md. */
const results = new Map<string, ReplayResult>();

/**
 * Replays one client, step by step; each step's failure names the client and the step. `passed`
 * collects the steps proved.
 */
async function replay(fixture: ClientFixture, index: number, passed: ReplayStep[]): Promise<void> {
  const port = String(41000 + index);
  const withPort = (value: string) => value.replaceAll('{port}', port);
  const step = (name: string) => `${fixture.client}: ${name}`;
  /**
   * Checks a step's outcome. Where a limitation of the client names this step, the step must fail
   * with the expected answer and the replay stops; a step that passes means the fixture is out of
   * date.
   */
  const outcome = (name: ReplayStep, ok: boolean, answer: string) => {
    const limitation = fixture.limitations.find((l) => l.step === name);
    if (!limitation) {
      expect(ok, step(`${name}: ${answer.slice(0, 400)}`)).toBe(true);
      if (!passed.includes(name)) passed.push(name);
      return;
    }
    expect(ok, step(`${name} passed, yet "${limitation.name}" says it fails`)).toBe(false);
    expect(answer, step(`${name} fails as "${limitation.name}" says`)).toContain(
      limitation.expect ?? '',
    );
    throw new LimitationReached(name, limitation.name);
  };

  // 401, protected resource metadata, authorization server metadata.
  const unauthenticated = await mcp(undefined, 'initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: fixture.id, version: '1' },
  });
  expect(unauthenticated.challenge.status, step('401 without a token')).toBe(401);
  const prm = (await (await fetch(unauthenticated.challenge.resourceMetadata ?? '')).json()) as {
    authorization_servers: string[];
    scopes_supported?: string[];
  };
  const issuer = prm.authorization_servers[0] ?? '';
  const as = (await (
    await fetch(`${issuer}/.well-known/oauth-authorization-server`)
  ).json()) as Record<string, unknown> & { scopes_supported: string[] };

  // Registration, as this client registers.
  const signingKey =
    fixture.token.clientAuth === 'private_key_jwt' ? await createClientAssertionKey() : undefined;
  let clientId: string;
  let clientSecret: string | undefined;
  if (fixture.registration.kind === 'dcr') {
    const body = JSON.parse(withPort(JSON.stringify(fixture.registration.body)));
    const registered = await fetch(String(as.registration_endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await registered.json()) as Record<string, unknown>;
    outcome('registration', registered.status === 201, JSON.stringify(answer));
    clientId = String(answer.client_id);
    clientSecret = typeof answer.client_secret === 'string' ? answer.client_secret : undefined;
  } else {
    const path = `/${fixture.id}/client.json`;
    clientId = `${documentsBase}${path}`;
    const document = JSON.parse(withPort(JSON.stringify(fixture.registration.document)));
    if (signingKey) {
      // The client's own key lives at its jwks_uri; a key of ours stands in for it.
      served.set(`/${fixture.id}/jwks.json`, signingKey.jwks);
      document.jwks_uri = `${documentsBase}/${fixture.id}/jwks.json`;
    }
    served.set(path, { ...document, client_id: clientId });
  }
  /** The token request's client authentication, as this client authenticates. */
  const authenticated = async (params: Record<string, string>) => {
    const method = fixture.token.clientAuth;
    if (method === 'private_key_jwt' && signingKey)
      return {
        params: {
          ...params,
          client_id: clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await signingKey.assertion(clientId, String(as.token_endpoint)),
        },
      };
    if (method === 'secret_post' && clientSecret)
      return { params: { ...params, client_id: clientId, client_secret: clientSecret } };
    if (method === 'secret_basic' && clientSecret)
      return { params, basic: [clientId, clientSecret] as [string, string] };
    return { params: { ...params, client_id: clientId } };
  };
  const tokenRequest = async (params: Record<string, string>) => {
    const { params: sent, basic } = await authenticated(params);
    return form(String(as.token_endpoint), sent, basic);
  };

  const redirectUri = withPort(fixture.redirectUri);
  const scopeFor = (challengeScope: string | undefined): string | undefined => {
    const { scope } = fixture.authorize;
    const base =
      scope === 'challenge'
        ? challengeScope
        : scope === 'metadata'
          ? prm.scopes_supported?.join(' ')
          : scope === 'none'
            ? undefined
            : scope;
    if (!fixture.authorize.addsOfflineAccess || !as.scopes_supported.includes('offline_access'))
      return base;
    return [...new Set([...(base ?? '').split(' ').filter(Boolean), 'offline_access'])].join(' ');
  };

  /** Authorization request -> sign-in and consent in a browser -> token request. */
  const authorizeAndExchange = async (scope: string | undefined, ua: UserAgent) => {
    const { verifier, challenge } = createPkce();
    const url = new URL(String(as.authorization_endpoint));
    const query: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      state: fixture.authorize.state === false ? undefined : crypto.randomUUID(),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope,
      resource: fixture.authorize.resource ? stack.mcpUrl : undefined,
      prompt: fixture.authorize.prompt,
    };
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(key, value);
    const atCallback = (target: string) => target.startsWith(redirectUri.split('?')[0] ?? '');
    const page = await ua.authorize(url.href, atCallback, ALICE);
    const reached = atCallback(page.url);
    const error = reached ? new URL(page.url).searchParams.get('error') : null;
    outcome(
      'authorization',
      reached && error === null,
      reached ? page.url : `HTTP ${page.status}: ${page.body}`,
    );
    const tokens = await tokenRequest({
      grant_type: 'authorization_code',
      code: new URL(page.url).searchParams.get('code') ?? '',
      redirect_uri: redirectUri,
      code_verifier: verifier,
      ...(fixture.token.resource ? { resource: stack.mcpUrl } : {}),
    });
    outcome('token', tokens.status === 200, JSON.stringify(tokens.body));
    return tokens.body;
  };

  const ua = new UserAgent();
  let tokens = await authorizeAndExchange(scopeFor(unauthenticated.challenge.scope), ua);
  const call = async (token: unknown, name: string) =>
    mcp(String(token), 'tools/call', {
      name,
      arguments: name === 'add_numbers' ? { a: 2, b: 3 } : {},
    });
  const sum = await call(tokens.access_token, 'add_numbers');
  outcome(
    'tools/call',
    sum.challenge.status === 200 && JSON.stringify(sum.result?.structuredContent) === '{"sum":5}',
    `HTTP ${sum.challenge.status} ${JSON.stringify(sum.result)}`,
  );

  /** A refresh request as this client sends it (scope and resource as it does). */
  const refreshRequest = (held: Record<string, unknown>) => {
    const scope =
      fixture.refresh.scope === 'none'
        ? undefined
        : fixture.refresh.scope === 'granted'
          ? String(held.scope ?? '')
          : `${held.scope ?? ''} offline_access`.trim();
    return {
      grant_type: 'refresh_token',
      refresh_token: String(held.refresh_token),
      ...(scope ? { scope } : {}),
      ...(fixture.refresh.resource ? { resource: stack.mcpUrl } : {}),
    };
  };

  // Refresh, as this client refreshes: parallel requests (no single-flight) each authenticate.
  if (fixture.refresh.supported) {
    expect(typeof tokens.refresh_token, step('a refresh token was issued')).toBe('string');
    const request = refreshRequest(tokens);
    const answers = await Promise.all(
      Array.from({ length: fixture.refresh.parallel ? 3 : 1 }, () => tokenRequest(request)),
    );
    const failed = answers.find((answer) => answer.status !== 200);
    outcome('refresh', failed === undefined, JSON.stringify(failed?.body ?? {}));
    tokens = answers.at(-1)?.body ?? tokens;
    const again = await call(tokens.access_token, 'add_numbers');
    expect(again.challenge.status, step('tools/call after refresh')).toBe(200);
  }

  // Step-up: the admin tool needs mcp:admin (a client that asked for every scope has it already).
  const denied = await call(tokens.access_token, 'server_status');
  if (
    String(tokens.scope ?? '')
      .split(' ')
      .includes('mcp:admin')
  ) {
    expect(denied.challenge.status, step('admin tool with mcp:admin')).toBe(200);
  } else {
    expect(denied.challenge.status, step('403 for a scope not held')).toBe(403);
    expect(denied.challenge.error, step('insufficient_scope')).toBe('insufficient_scope');
    if (fixture.stepUp === 'union' || fixture.stepUp === 'challenge') {
      const held = String(tokens.scope ?? '').split(' ');
      const challenged = (denied.challenge.scope ?? '').split(' ');
      const scope =
        fixture.stepUp === 'union' ? [...new Set([...held, ...challenged])] : challenged;
      const upgraded = await authorizeAndExchange(scopeFor(scope.join(' ')), ua);
      const status = await call(upgraded.access_token, 'server_status');
      outcome('step-up', status.challenge.status === 200, `HTTP ${status.challenge.status}`);
    } else if (fixture.stepUp === 'refresh') {
      // It refreshes the grant it holds and retries: a refresh can narrow a grant, never widen it.
      const refreshed = await tokenRequest(refreshRequest(tokens));
      const status = await call(refreshed.body.access_token, 'server_status');
      outcome(
        'step-up',
        status.challenge.status === 200,
        `refresh HTTP ${refreshed.status}, then HTTP ${status.challenge.status} ${status.challenge.error ?? ''}`,
      );
    }
  }
  // Reaching the end, a limitation that names a step is out of date.
  const stale = fixture.limitations.find((l) => l.step);
  expect(stale?.name, step('a limitation names a step that passed')).toBeUndefined();
}

describe('real MCP clients, as they really behave (packages/doctor/corpus)', () => {
  it('has fixtures to replay, and the own-code tests they name exist', () => {
    expect(fixtures.length).toBeGreaterThan(0);
    for (const { id, ownCodeTest } of fixtures)
      if (ownCodeTest)
        expect(existsSync(new URL(`../${ownCodeTest}`, import.meta.url)), id).toBe(true);
  });
  fixtures.forEach((fixture, index) => {
    const limited = fixture.limitations.find((l) => l.step);
    const title = limited
      ? `${fixture.client}: stops at ${limited.step}, as its limitation "${limited.name}" says`
      : `${fixture.client} registers, signs in, calls a tool, refreshes and steps up`;
    it(title, async () => {
      const passed: ReplayStep[] = [];
      try {
        await replay(fixture, index, passed);
        results.set(fixture.id, { passed });
      } catch (error) {
        if (!(error instanceof LimitationReached)) throw error;
        results.set(fixture.id, {
          passed,
          stoppedAt: { step: error.step, limitation: error.limitation },
        });
      }
    }, 60_000);
  });

  it('docs/clients.md is the matrix these replays prove', () => {
    const doc = new URL('../../../docs/clients.md', import.meta.url);
    const rendered = renderMatrix(fixtures, results);
    if (process.env.UPDATE_CLIENTS_DOC === '1') writeFileSync(doc, rendered);
    let committed = '';
    try {
      committed = readFileSync(doc, 'utf8');
    } catch {
      // Missing: the comparison below says how to create it.
    }
    expect(
      normalizeMarkdown(committed),
      'docs/clients.md differs from what the replays prove: regenerate it with UPDATE_CLIENTS_DOC=1 pnpm --filter @gatehouse/e2e exec vitest run test/compat.test.ts',
    ).toBe(normalizeMarkdown(rendered));
  });
});
