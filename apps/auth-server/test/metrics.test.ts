import { freePort, metricSample } from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from './support/personal-pages.js';
import { authorize, type RunningServer, register, startAuthServer } from './support/server.js';

/**
 * Prometheus metrics of the authorization server: on a port of their own (AUTH_METRICS_PORT) and on
 * the public port behind a token (AUTH_METRICS_TOKEN); requests by route, tokens issued and
 * refreshed, sign-in failures, registrations, store errors; nothing served without configuration.
 */

const TOKEN = 'scraper-token-0123456789';
let server: RunningServer;
let plain: RunningServer;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await freePort();
  [server, plain] = await Promise.all([
    startAuthServer({ AUTH_METRICS_PORT: String(metricsPort), AUTH_METRICS_TOKEN: TOKEN }),
    startAuthServer(),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.process.stop(), plain?.process.stop()]);
});

const scrape = async () => {
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
};

describe('authorization server metrics', () => {
  it('count tokens issued and refreshed, sign-in failures, registrations, and requests by route', async () => {
    const before = await scrape();
    const issuedBefore =
      metricSample(before, 'gatehouse_events_total', {
        type: 'token_issued',
        outcome: 'success',
      }) ?? 0;
    const client = await connectClient(server, 'Metrics Client');
    await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: client.refreshToken,
        client_id: client.clientId,
      }).toString(),
    });
    const clientId = (await register(server.issuer, {})).body.client_id as string;
    await authorize(server.issuer, { clientId, password: 'wrong-password' }).catch(() => {});
    // Paths nobody routes all land in one series.
    for (const path of ['/nope-1', '/nope-2', '/nope-3']) await fetch(`${server.issuer}${path}`);

    const text = await scrape();
    expect(
      metricSample(text, 'gatehouse_events_total', { type: 'token_issued', outcome: 'success' }),
    ).toBe(issuedBefore + 1);
    expect(
      metricSample(text, 'gatehouse_events_total', { type: 'token_refreshed', outcome: 'success' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricSample(text, 'gatehouse_events_total', { type: 'sign_in', outcome: 'failure' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricSample(text, 'gatehouse_events_total', {
        type: 'client_registered',
        outcome: 'success',
      }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      metricSample(text, 'gatehouse_http_request_duration_seconds_count', {
        route: 'token',
        method: 'POST',
        status: '200',
        service: 'auth-server',
      }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      metricSample(text, 'gatehouse_http_request_duration_seconds_count', { route: 'other' }),
    ).toBeGreaterThanOrEqual(3);
    expect(text).not.toContain('nope-1');
    expect(text).toMatch(/^gatehouse_process_cpu_seconds_total\{service="auth-server"\} /m);
    expect(text).toContain('# TYPE gatehouse_store_errors_total counter');
    // Never a token, a code or a client secret in a label.
    expect(text).not.toContain(client.refreshToken);
  });

  it("answer on the public port only with the scraper's token", async () => {
    const at = (token?: string) =>
      fetch(`${server.issuer}/metrics`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    expect((await at()).status).toBe(401);
    expect((await at('x'.repeat(TOKEN.length))).status).toBe(401);
    const answer = await at(TOKEN);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('gatehouse_events_total');
  });

  it('are not served at all without configuration', async () => {
    const answer = await fetch(`${plain.issuer}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(answer.status).toBe(404);
    expect(await answer.text()).not.toContain('gatehouse_');
  });
});
