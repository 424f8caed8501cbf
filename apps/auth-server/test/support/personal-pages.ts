import { type PageResponse, UserAgent } from '@gatehouse/testkit';
import { expect } from 'vitest';
import { authorize, exchangeCode, REDIRECT_URI, type RunningServer, register } from './server.js';

/** A client `username` authorized (tokens issued), registered under `name`. */
export async function connectClient(server: RunningServer, name: string, username = 'alice') {
  const clientId = (
    await register(server.issuer, { client_name: name, redirect_uris: [REDIRECT_URI] })
  ).body.client_id as string;
  const result = await authorize(server.issuer, {
    clientId,
    scope: 'mcp:tools',
    username,
    password: `${username}-password`,
  });
  const tokens = await exchangeCode(server.issuer, clientId, result);
  expect(tokens.status).toBe(200);
  return {
    clientId,
    accessToken: String(tokens.body.access_token),
    refreshToken: String(tokens.body.refresh_token),
  };
}

/**
 * Signs in headlessly where `/account` or `/admin` sends a browser without a session, back through
 * the callback; returns the user agent (its session cookie), the page, and the callback's code.
 */
export async function signInToPage(
  server: RunningServer,
  page: '/account' | '/admin',
  username: string,
): Promise<{ ua: UserAgent; page: PageResponse; code: string }> {
  const ua = new UserAgent();
  const callback = `${server.issuer}/account/callback`;
  const arrived = await ua.authorize(`${server.issuer}${page}`, (url) => url.startsWith(callback), {
    username,
    password: `${username}-password`,
    consent: 'allow',
  });
  expect(arrived.url.startsWith(callback)).toBe(true);
  const back = await ua.request(arrived.url);
  expect(back.status).toBe(303);
  expect(back.headers.get('location')).toBe(page);
  return {
    ua,
    page: await ua.request(`${server.issuer}${page}`),
    code: new URL(arrived.url).searchParams.get('code') ?? '',
  };
}
