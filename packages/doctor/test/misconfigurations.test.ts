import { type Misconfiguration, startMisconfiguredServer, UserAgent } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { type Report, runDoctor } from '../src/index.js';

/**
 * The doctor against testkit's deliberately misconfigurable server: healthy, it reports nothing;
 * with one misconfiguration at a time, it reports exactly that one, by its id, with a fix.
 */
async function diagnose(
  misconfigurations: readonly Misconfiguration[],
  options: { refreshReuseSeconds?: number; reuseWaitSeconds?: number } = {},
): Promise<Report> {
  const server = await startMisconfiguredServer({
    misconfigurations,
    ...(options.refreshReuseSeconds === undefined
      ? {}
      : { refreshReuseSeconds: options.refreshReuseSeconds }),
  });
  try {
    return await runDoctor({
      url: server.mcpUrl,
      login: {
        // The test server approves at once: the user agent only follows its redirect to the callback.
        async open(url) {
          const page = await new UserAgent().navigate(
            url,
            (u) => new URL(u).pathname === '/callback',
          );
          await fetch(page.url);
        },
        timeoutMs: 10_000,
        ...(options.reuseWaitSeconds ? { reuseWaitSeconds: options.reuseWaitSeconds } : {}),
      },
    });
  } finally {
    await server.close();
  }
}

const problems = (report: Report) =>
  report.findings.filter((f) => f.status === 'warn' || f.status === 'fail');

describe('gatehouse doctor against a deliberately misconfigured server', () => {
  it('reports nothing against the healthy server, with sign-in and refresh checked', async () => {
    const report = await diagnose([]);
    expect(problems(report)).toEqual([]);
    expect(report.ok).toBe(true);
    const passed = report.findings.filter((f) => f.status === 'pass').map((f) => f.id);
    expect(passed).toEqual(
      expect.arrayContaining([
        'login.iss',
        'token.aud',
        'mcp.calls',
        'refresh.race',
        'refresh.rotation',
      ]),
    );
  });

  const cases: Array<[Misconfiguration, string, 'warn' | 'fail', RegExp]> = [
    ['wrong-resource', 'resource-metadata.resource', 'fail', /Set resource to exactly/],
    ['no-resource-metadata', 'challenge.resource-metadata', 'warn', /resource_metadata/],
    ['issuer-mismatch', 'authorization-server.issuer', 'fail', /authorization_servers/],
    ['no-s256', 'authorization-server.s256', 'fail', /S256/],
    ['plain-allowed', 'authorization-request.pkce-plain', 'warn', /S256 only/],
    ['no-iss-on-callback', 'login.iss', 'fail', /iss=/],
    ['aud-not-resource', 'token.aud', 'fail', /aud/],
    ['offline-access-in-prm', 'resource-metadata.offline-access', 'warn', /Remove offline_access/],
    ['cors-no-expose', 'cors.expose-www-authenticate', 'warn', /Expose-Headers/],
    ['no-challenge', 'challenge.header', 'fail', /WWW-Authenticate/],
    ['secret-for-public-client', 'registration.public-client', 'fail', /no client_secret/],
  ];
  it.each(cases)('%s: finds %s and nothing else', async (misconfiguration, id, status, fix) => {
    const report = await diagnose([misconfiguration]);
    const found = problems(report);
    expect(found.map((f) => [f.id, f.status])).toEqual([[id, status]]);
    expect(found[0]?.fix).toMatch(fix);
    expect(found[0]?.clause).toBeTruthy();
    expect(report.ok).toBe(status !== 'fail');
  });
});

describe('refresh-token reuse, told apart from the reuse interval by waiting (--reuse-wait)', () => {
  it('passes when reuse after the interval is refused and revokes the grant', async () => {
    const report = await diagnose([], { refreshReuseSeconds: 1, reuseWaitSeconds: 1.5 });
    expect(problems(report)).toEqual([]);
    expect(report.findings.find((f) => f.id === 'refresh.reuse')?.status).toBe('pass');
  });

  it('warns when a rotated-out token still refreshes after the wait', async () => {
    const report = await diagnose([], { refreshReuseSeconds: 60, reuseWaitSeconds: 1 });
    expect(problems(report).map((f) => [f.id, f.status])).toEqual([['refresh.reuse', 'warn']]);
  });
});
