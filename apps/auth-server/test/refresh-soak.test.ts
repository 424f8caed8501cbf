import { createJwtVerifier } from '@gatehouse/auth-core';
import {
  type RunningRedis,
  type StartedProcess,
  startAuthServerApp,
  startOnFreePorts,
  startRedis,
} from '@gatehouse/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorize,
  authServerEnv,
  exchangeCode,
  MCP_RESOURCE,
  type RunningServer,
  refreshRequest,
  register,
  startAuthServer,
} from './support/server.js';

/**
 * Refresh soak: racing refreshes with one refresh token never lose a session.
 *
 * Real MCP clients refresh without single-flight. The MCP TypeScript SDK starts one refresh per
 * request that found the access token expired, so a client with three tool calls in flight sends
 * three refreshes with the same refresh token at the same moment; opencode and Claude Code
 * processes sharing one stored credential do the same across processes, and whichever answer is
 * written last is what they continue with. Each such request must get a working answer (200 with
 * an access token and a new refresh token; identical answers or distinct pairs are both fine), and
 * the grant must never be revoked as "reuse": for the user that is a lost session and a new login.
 *
 * 10 installations of one client (user alice, 10 separate browser sign-ins) run 200 rotations each,
 * all at once: 3 racing refreshes with the current refresh token, then the refresh token of one of
 * the answers, by finishing order varied per rotation (first finisher, second, last). Afterwards
 * every installation's last access token verifies and one more refresh succeeds. On SQLite with
 * one instance, and on Redis with two instances behind one issuer, the racers split between them.
 */

const INSTALLATIONS = 10;
const ROTATIONS = 200;
const RACERS = 3;
const TIMEOUT_MS = 240_000;

// Every request comes from 127.0.0.1: the per-IP token limit (1,200 a minute by default) would
// answer 429 long before the soak's 6,000 refreshes are through. One registration per store stays
// well under AUTH_REGISTRATION_RATE_LIMIT.
const SOAK_ENV = { AUTH_TOKEN_RATE_LIMIT: '1000000' };

interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string;
}

interface Answer {
  readonly request: number;
  readonly instance: number;
  readonly status: number;
  /** `error (error_description)`, or what a 200 lacked; undefined for a working answer. */
  readonly problem?: string;
  readonly tokens?: Tokens;
}

interface Failure {
  readonly installation: number;
  readonly rotation: number;
  readonly request: number;
  readonly instance: number;
  readonly status: number;
  readonly problem: string;
}

/** One refresh as a public MCP client sends it; a dropped connection is an answer too (status 0). */
async function refresh(
  bases: readonly string[],
  instance: number,
  request: number,
  clientId: string,
  refreshToken: string,
): Promise<Answer> {
  const base = bases[instance] ?? '';
  try {
    const { status, body } = await refreshRequest(base, clientId, refreshToken, {
      resource: MCP_RESOURCE,
    });
    if (status !== 200) {
      const description = body.error_description ? ` (${body.error_description})` : '';
      return {
        request,
        instance,
        status,
        problem: `${body.error ?? 'no error code'}${description}`,
      };
    }
    const { access_token: accessToken, refresh_token: next } = body;
    if (typeof accessToken !== 'string' || !accessToken)
      return { request, instance, status, problem: 'no access_token' };
    if (typeof next !== 'string' || !next || next === refreshToken)
      return { request, instance, status, problem: 'no new refresh_token' };
    return { request, instance, status, tokens: { accessToken, refreshToken: next } };
  } catch (error) {
    return { request, instance, status: 0, problem: `no answer: ${(error as Error).message}` };
  }
}

/** The failure report: how many, by answer, and per installation where it started and ended. */
function summarize(
  store: string,
  failures: readonly Failure[],
  requests: number,
  lostAt: ReadonlyMap<number, number>,
): string {
  const lines = [
    `refresh soak ${store}: ${failures.length} of ${requests} refresh requests failed; ` +
      `${lostAt.size} of ${INSTALLATIONS} installations lost their session`,
  ];
  const byAnswer = new Map<string, number>();
  for (const f of failures) {
    const key = `${f.status} ${f.problem}`;
    byAnswer.set(key, (byAnswer.get(key) ?? 0) + 1);
  }
  for (const [answer, count] of byAnswer) lines.push(`  ${count} x ${answer}`);
  for (let installation = 0; installation < INSTALLATIONS; installation++) {
    const own = failures.filter((f) => f.installation === installation);
    const first = own[0];
    if (!first) continue;
    const rotations = [...new Set(own.map((f) => f.rotation))];
    const shown = rotations.slice(0, 5).join(', ');
    const more = rotations.length > 5 ? ` and ${rotations.length - 5} more` : '';
    const lost = lostAt.get(installation);
    lines.push(
      `  installation ${installation}: ${own.length} failed, first at rotation ${first.rotation} ` +
        `(request ${first.request} on instance ${first.instance}: ${first.status} ${first.problem}); ` +
        `failing rotations ${shown}${more}` +
        (lost === undefined ? '' : `; session lost at rotation ${lost} (every racer refused)`),
    );
  }
  return lines.join('\n');
}

/**
 * Runs the soak against `bases` (instances of one issuer; the first is the issuer itself). Racer
 * `request` of rotation `rotation` goes to instance (rotation + request) % bases.length.
 */
async function soak(store: string, bases: readonly string[]): Promise<void> {
  const issuer = bases[0] ?? '';
  const at = (n: number) => n % bases.length;

  // One registration: identical registrations share a client id anyway. Each sign-in gets its own
  // grant (provider/grants.ts); before that they shared one, and one revocation showed in all.
  const registered = await register(issuer, { client_name: 'Refresh Soak Client' });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  const clientId = registered.body.client_id;

  // One after another: each its own browser session (a new UserAgent) signing in as alice.
  const current: Tokens[] = [];
  for (let i = 0; i < INSTALLATIONS; i++) {
    const signedIn = await authorize(bases[at(i)] ?? '', { clientId });
    const exchanged = await exchangeCode(bases[at(i + 1)] ?? '', clientId, signedIn);
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    current.push({
      accessToken: String(exchanged.body.access_token),
      refreshToken: String(exchanged.body.refresh_token),
    });
  }

  const failures: Failure[] = [];
  const lostAt = new Map<number, number>();
  let requests = 0;
  let rotations = 0;
  // How the server answered the racers (both are fine): one answer repeated, or distinct pairs.
  let identical = 0;
  let distinct = 0;
  const installation = async (index: number): Promise<void> => {
    for (let rotation = 0; rotation < ROTATIONS; rotation++) {
      const presented = current[index]?.refreshToken ?? '';
      // All racers leave before any answer is awaited; `finished` records who answered first.
      const finished: Answer[] = [];
      await Promise.all(
        Array.from({ length: RACERS }, async (_, request) => {
          const answer = await refresh(bases, at(rotation + request), request, clientId, presented);
          finished.push(answer);
        }),
      );
      requests += RACERS;
      rotations++;
      const issued = new Set(finished.map((answer) => answer.tokens?.refreshToken).filter(Boolean));
      if (issued.size === 1) identical++;
      else if (issued.size > 1) distinct++;
      for (const answer of finished) {
        if (answer.problem !== undefined)
          failures.push({ installation: index, rotation, ...answer, problem: answer.problem });
      }
      // Last writer wins: the kept answer is the rotation % RACERS-th to finish, or the next
      // working one after it when that one failed.
      const kept = Array.from({ length: RACERS }, (_, k) => finished[(rotation + k) % RACERS]).find(
        (answer) => answer?.tokens !== undefined,
      )?.tokens;
      if (!kept) {
        // Nothing to continue with: this installation's user would have to sign in again.
        lostAt.set(index, rotation);
        return;
      }
      current[index] = kept;
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: INSTALLATIONS }, (_, index) => installation(index)));
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `refresh soak ${store}: ${rotations} rotations, ${requests} refresh requests ` +
      `(${INSTALLATIONS} installations x ${RACERS} racers) in ${seconds.toFixed(1)} s, ` +
      `${Math.round(requests / seconds)} requests/s; racers got one answer in ${identical} ` +
      `rotations, distinct token pairs in ${distinct}`,
  );
  expect(failures.length, summarize(store, failures, requests, lostAt)).toBe(0);

  // Still signed in everywhere: the last access tokens verify and the grants still refresh.
  const verifier = createJwtVerifier({ issuer, audience: MCP_RESOURCE, jwksUri: `${issuer}/jwks` });
  for (let index = 0; index < INSTALLATIONS; index++) {
    const last = current[index];
    if (!last) throw new Error(`installation ${index} has no tokens`);
    await expect(verifier.verify(last.accessToken)).resolves.toMatchObject({
      subject: 'alice',
      clientId,
    });
    const after = await refresh(bases, at(index), 0, clientId, last.refreshToken);
    expect(after.problem, `installation ${index}: final refresh answered ${after.status}`).toBe(
      undefined,
    );
    await expect(verifier.verify(after.tokens?.accessToken ?? '')).resolves.toMatchObject({
      subject: 'alice',
    });
  }
}

const SOAK_TITLE = `gives all ${RACERS} racing refreshes a working answer, ${ROTATIONS} rotations x ${INSTALLATIONS} installations, and never revokes a grant`;

describe('refresh soak on SQLite, one instance', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startAuthServer(SOAK_ENV);
  });
  afterAll(() => server?.process.stop());

  it(SOAK_TITLE, () => soak('on SQLite, one instance', [server.issuer]), TIMEOUT_MS);
});

describe('refresh soak on Redis, two instances', () => {
  let redis: RunningRedis;
  let instances: StartedProcess[] = [];
  let bases: string[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    // Two instances of one issuer (the first one's address) on one Redis, like a balanced pair.
    const start = (issuerPort: number, port: number) =>
      startAuthServerApp({
        port,
        env: { ...authServerEnv(`http://localhost:${issuerPort}`, redis.url), ...SOAK_ENV },
      });
    await startOnFreePorts(2, async ([portA, portB]) => {
      const a = await start(portA, portA);
      try {
        instances = [a, await start(portA, portB)];
      } catch (error) {
        await a.stop();
        throw error;
      }
      bases = [`http://localhost:${portA}`, `http://localhost:${portB}`];
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await redis?.stop();
  });

  it(SOAK_TITLE, () => soak('on Redis, two instances', bases), TIMEOUT_MS);
});
