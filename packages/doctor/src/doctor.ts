import { checkAuthorizationRequest, clientScope } from './checks/authorization-request.js';
import { checkAuthorizationServerMetadata } from './checks/authorization-server-metadata.js';
import { checkChallenge } from './checks/challenge.js';
import { reportClients } from './checks/clients.js';
import { checkCors } from './checks/cors.js';
import { checkClientHabits } from './checks/habits.js';
import { judgeAccessToken, type LoginOptions, signedIn, signIn } from './checks/login.js';
import { checkRefresh } from './checks/refresh.js';
import { checkRegistration } from './checks/registration.js';
import { checkResourceMetadata } from './checks/resource-metadata.js';
import { checkTokenEndpoint } from './checks/token-endpoint.js';
import { loadCorpus } from './corpus.js';
import { listenForCallback } from './loopback-callback.js';
import { Findings, type Report, STEP_ORDER, summarize } from './report.js';
import { VERSION } from './version.js';
import type { Walk } from './walk.js';

export interface DoctorOptions {
  /** The MCP server URL, exactly as users give it to their clients. */
  readonly url: string;
  /** Sign in and check tokens, MCP calls and refresh; without it, nothing needs a user. */
  readonly login?: LoginOptions;
  /** A client registered beforehand, used instead of a test registration. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The port of the loopback redirect URI (default: a free one). */
  readonly callbackPort?: number;
  /** The browser origin presented by the CORS checks (default MCP Inspector's, http://localhost:6274). */
  readonly browserOrigin?: string;
  /**
   * Corpus clients to judge the chain for (ids of packages/doctor/corpus). Every client is judged
   * from the findings in a summary table; these are also probed with their own registration and
   * authorization request, and a failing verdict for one of them fails the report.
   */
  readonly as?: readonly string[];
}

/**
 * Walks the authorization chain of an MCP server in the order clients do, and reports each step.
 * Never throws for the server's mistakes: they are findings.
 */
export async function runDoctor(options: DoctorOptions): Promise<Report> {
  const started = Date.now();
  const findings = new Findings();
  const walk: Walk = {
    mcpUrl: options.url,
    findings,
    browserOrigin: options.browserOrigin ?? 'http://localhost:6274',
  };
  const callback = await listenForCallback(options.callbackPort ?? 0);
  try {
    await checkChallenge(walk);
    if (!findings.has('challenge.reachable', 'fail')) {
      await checkResourceMetadata(walk);
      await checkAuthorizationServerMetadata(walk);
      if (options.clientId) {
        walk.client = {
          clientId: options.clientId,
          redirectUri: callback.redirectUri,
          ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}),
        };
        findings.add({
          id: 'registration.registered',
          step: 'registration',
          status: 'skip',
          title: `No test registration: using client ${options.clientId}`,
        });
      } else if (walk.authorizationServer) {
        await checkRegistration(walk, callback.redirectUri);
      }
      if (walk.authorizationServer) {
        await checkAuthorizationRequest(walk);
        await checkTokenEndpoint(walk);
      }
      await checkCors(walk);
      if (options.login && walk.client && findings.has('authorization-request.accepted', 'pass')) {
        const scope = clientScope(walk);
        const first = await signIn(walk, callback, options.login, {
          scope,
          judge: true,
          purpose: 'as a typical native client',
        });
        if (signedIn(first)) {
          await judgeAccessToken(walk, first);
          await checkRefresh(walk, first, callback, options.login);
          await checkClientHabits(walk, first, callback, options.login);
        }
      } else if (options.login) {
        findings.add({
          id: 'login.callback',
          step: 'login',
          status: 'skip',
          title: 'Sign-in not attempted: an earlier step failed',
        });
      }
    }
    if (!options.login)
      findings.add({
        id: 'clients.login',
        step: 'clients',
        status: 'info',
        title:
          'Clients judged on discovery, registration and authorization only: their token, refresh and step-up habits need --login',
      });
  } finally {
    await callback.close();
  }
  const clients = await reportClients(
    walk,
    loadCorpus(),
    new Set(options.as ?? []),
    !!options.login,
  );
  // Checks run in the order that needs least state; the report reads in the order clients walk.
  const ordered = STEP_ORDER.flatMap((step) => findings.list.filter((f) => f.step === step));
  const summary = summarize(ordered);
  return {
    tool: 'gatehouse-doctor',
    version: VERSION,
    target: options.url,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    findings: ordered,
    clients,
    summary,
    ok: summary.fail === 0,
  };
}
