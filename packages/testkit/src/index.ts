export {
  type AppLaunch,
  startApp,
  startAuthServerApp,
  startMcpServerApp,
  type WorkspaceApp,
  workspaceAppDir,
} from './apps.js';
export {
  type BenchCase,
  type BenchOptions,
  type BenchResult,
  bench,
  markdownTable,
} from './bench.js';
export { chromiumPath, launchBrowser } from './browser.js';
export { type ClientAssertionKey, createClientAssertionKey } from './client-assertion.js';
export { introspectionClient } from './clients.js';
export { undocumentedNames } from './docs.js';
export { createDpopHolder, createDpopProof, type DpopHolder } from './dpop.js';
export { metricSample } from './metrics.js';
export {
  type Misconfiguration,
  type MisconfiguredServer,
  type MisconfiguredServerOptions,
  startMisconfiguredServer,
} from './misconfigured-server.js';
export { type ClientMetadata, HeadlessOAuthProvider } from './oauth-provider.js';
export { createPkce } from './pkce.js';
export { type Ports, startOnFreePort, startOnFreePorts } from './ports.js';
export {
  type ExitedProcess,
  freePort,
  ProcessStartError,
  portTaken,
  READY_LINES,
  runToExit,
  type StartedProcess,
  type StartProcessOptions,
  startProcess,
  waitForOutput,
} from './process.js';
export { type RawResponse, rawRequest } from './raw-http.js';
export { type RunningRedis, startRedis } from './redis.js';
export { type RoundRobinProxy, startRoundRobinProxy } from './round-robin-proxy.js';
export { selfSignedCertificate } from './tls.js';
export { obtainToken } from './tokens.js';
export {
  type HeadlessLogin,
  type HtmlForm,
  linkHref,
  type PageResponse,
  parseForms,
  type StoredCookie,
  UserAgent,
  type UserAgentGateway,
} from './user-agent.js';
