import { randomUUID } from 'node:crypto';
import { createPkce, type PageResponse, parseForms, UserAgent } from '@gatehouse/testkit';
import { expect } from 'vitest';
import {
  authorize,
  exchangeCode,
  MCP_RESOURCE,
  REDIRECT_URI,
  type RunningServer,
} from './server.js';

/**
 * What the store-failure suites (Redis, SQLite) share: requests by a client and by a browser, and
 * what the retryable 503 must look like to each.
 */

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export async function send(url: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export const refresh = (
  on: RunningServer,
  clientId: string,
  refreshToken: string,
  requestId: string = randomUUID(),
) =>
  send(`${on.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': requestId },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: refreshToken,
    }).toString(),
  });

export const registerClient = (on: RunningServer, requestId: string = randomUUID()) =>
  send(`${on.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ client_name: 'Test MCP Client', redirect_uris: [REDIRECT_URI] }),
  });

export const authorizationUrl = (on: RunningServer, clientId: string) =>
  `${on.issuer}/auth?${new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: createPkce().challenge,
    code_challenge_method: 'S256',
    resource: MCP_RESOURCE,
  })}`;

/**
 * A registered client, tokens for it, and a sign-in page left open in a user agent; `secrets` are
 * every credential involved, which must never reach the log.
 */
export async function prepare(on: RunningServer) {
  const registered = await registerClient(on);
  expect(registered.status, registered.text).toBe(201);
  const client = JSON.parse(registered.text) as {
    client_id: string;
    registration_access_token: string;
  };
  const authorized = await authorize(on.issuer, { clientId: client.client_id });
  const tokens = await exchangeCode(on.issuer, client.client_id, authorized);
  expect(tokens.status).toBe(200);
  const refreshToken = String(tokens.body.refresh_token);
  const ua = new UserAgent();
  const loginPage = await ua.navigate(authorizationUrl(on, client.client_id), () => false);
  expect(loginPage.status).toBe(200);
  const loginForm = parseForms(loginPage.body, loginPage.url)[0];
  if (!loginForm) throw new Error('no login form');
  const secrets = [
    refreshToken,
    String(tokens.body.access_token),
    authorized.callback.searchParams.get('code') ?? '',
    authorized.verifier,
    client.registration_access_token,
    'alice-password',
  ];
  return { clientId: client.client_id, refreshToken, ua, loginPage, loginForm, secrets };
}

/**
 * The retryable answer, as JSON: 503, temporarily_unavailable, Retry-After, and nothing of the
 * storage's own wording (`storageDetail`) for the client.
 */
export function expectUnavailableJson(answer: Answer | PageResponse, storageDetail: RegExp): void {
  const text = 'text' in answer ? answer.text : answer.body;
  expect(answer.status, text).toBe(503);
  expect(answer.headers.get('retry-after')).toBe('2');
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: string; error_description: string };
  expect(body.error).toBe('temporarily_unavailable');
  expect(body.error_description).not.toMatch(storageDetail);
}

/** The same for a browser: the 503 page, not an error redirect and not "session expired". */
export function expectUnavailablePage(page: PageResponse): void {
  expect(page.status, page.body).toBe(503);
  expect(page.headers.get('retry-after')).toBe('2');
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page.headers.get('location')).toBeNull();
  expect(page.body).toMatch(/temporarily unavailable/i);
  expect(page.body).not.toMatch(/expired/i);
}
