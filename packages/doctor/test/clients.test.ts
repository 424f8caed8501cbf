import { describe, expect, it } from 'vitest';
import { judgeClients } from '../src/checks/clients.js';
import { loadCorpus } from '../src/corpus.js';
import { type FindingStatus, Findings } from '../src/report.js';
import type { Walk } from '../src/walk.js';

/**
 * The per-client judgement rules, one at a time: a finding meets the corpus clients whose habit it
 * breaks, and only those. The walk is built by hand (the rules read findings, not HTTP).
 */
const corpus = loadCorpus();

function walkWith(
  found: Record<string, FindingStatus>,
  document: Record<string, unknown> = {
    registration_endpoint: 'http://127.0.0.1:1/register',
    client_id_metadata_document_supported: true,
  },
): Walk {
  const findings = new Findings();
  for (const [id, status] of Object.entries(found))
    findings.add({ id, step: 'token', status, title: `${id} is ${status}` });
  return {
    mcpUrl: 'http://127.0.0.1:1/mcp',
    findings,
    browserOrigin: 'http://localhost:6274',
    authorizationServer: {
      url: 'http://127.0.0.1:1/.well-known/oauth-authorization-server',
      document,
    },
  };
}

const failing = (walk: Walk) =>
  judgeClients(walk, corpus)
    .filter((v) => v.status !== 'pass')
    .map((v) => v.id)
    .sort();
const ids = (habit: (c: (typeof corpus)[number]) => boolean) =>
  corpus
    .filter(habit)
    .map((c) => c.id)
    .sort();

describe('judging each corpus client by its habits', () => {
  it('finds no client in trouble when nothing is wrong but the SDK v1 step-up habit needs no step-up', () => {
    expect(failing(walkWith({}))).toEqual([]);
  });

  it('racing refreshes fail exactly the clients without single-flight', () => {
    expect(failing(walkWith({ 'refresh.race': 'fail' }))).toEqual(
      ids((c) => c.refresh.supported && c.refresh.parallel),
    );
  });

  it('a refresh without scope breaking fails exactly the clients that refresh without scope', () => {
    expect(failing(walkWith({ 'refresh.without-scope': 'fail' }))).toEqual(
      ids((c) => c.refresh.supported && c.refresh.scope === 'none'),
    );
    expect(failing(walkWith({ 'refresh.with-scope': 'fail' }))).toEqual(
      ids((c) => c.refresh.scope === 'granted+offline_access'),
    );
  });

  it('tokens refused without resource fail exactly the clients that omit resource', () => {
    expect(failing(walkWith({ 'token.without-resource': 'warn' }))).toEqual(
      ids((c) => !c.authorize.resource || !c.token.resource),
    );
  });

  it('a refused registration fails the DCR clients; no metadata documents, the CIMD ones', () => {
    expect(failing(walkWith({ 'registration.registered': 'fail' }))).toEqual(
      ids((c) => c.registration.kind === 'dcr'),
    );
    const dcrOnly = walkWith({}, { registration_endpoint: 'http://127.0.0.1:1/register' });
    expect(failing(dcrOnly)).toEqual(ids((c) => c.registration.kind === 'cimd'));
    expect(judgeClients(dcrOnly, corpus).find((v) => v.id === 'claude-code')?.status).toBe('warn');
  });

  it('a refused second loopback port fails the clients whose port changes per run', () => {
    expect(failing(walkWith({ 'authorization-request.loopback-port': 'fail' }))).toEqual(
      ids((c) => /^http:\/\/(127\.0\.0\.1|localhost):\{port\}/.test(c.redirectUri)),
    );
  });

  it('refresh tokens only with prompt=consent trouble the clients that add offline_access without it', () => {
    expect(failing(walkWith({ 'refresh.issued': 'fail' }))).toEqual(
      ids(
        (c) =>
          c.refresh.supported && c.authorize.addsOfflineAccess && c.authorize.prompt !== 'consent',
      ),
    );
    expect(failing(walkWith({ 'refresh.without-offline-access': 'warn' }))).toEqual(
      ids((c) => c.refresh.supported && !c.authorize.addsOfflineAccess),
    );
  });

  it('a possible step-up troubles the clients that step up by refreshing', () => {
    expect(failing(walkWith({ 'token.step-up': 'info' }))).toEqual(
      ids((c) => c.stepUp === 'refresh'),
    );
  });

  it('a discovery blocker stops every client, and nothing after it is judged', () => {
    const verdicts = judgeClients(
      walkWith({ 'authorization-server.issuer': 'fail', 'refresh.race': 'fail' }),
      corpus,
    );
    for (const verdict of verdicts) {
      expect(verdict.status).toBe('fail');
      expect(verdict.reasons).toEqual([
        'stops: authorization-server.issuer is fail [authorization-server.issuer]',
      ]);
    }
  });

  it('names the audience when the MCP server refuses a token with the wrong one', () => {
    const verdicts = judgeClients(walkWith({ 'token.aud': 'fail', 'mcp.calls': 'fail' }), corpus);
    expect(new Set(verdicts.map((v) => v.reasons.join()))).toEqual(
      new Set(['stops: token.aud is fail [token.aud]']),
    );
    // A wrong audience the MCP server accepts anyway stops no client (it is the server's risk).
    expect(failing(walkWith({ 'token.aud': 'fail' }))).toEqual([]);
  });
});
