export { chromiumPath, launchBrowser } from './browser.js';
export { introspectionClient } from './clients.js';
export { createDpopHolder, createDpopProof, type DpopHolder } from './dpop.js';
export {
  type ClientMetadata,
  type HeadlessLogin,
  HeadlessOAuthProvider,
} from './oauth-provider.js';
export { createPkce } from './pkce.js';
export { freePort, type StartedProcess, startProcess } from './process.js';
export { type RunningRedis, startRedis } from './redis.js';
export { type RoundRobinProxy, startRoundRobinProxy } from './round-robin-proxy.js';
export { obtainToken } from './tokens.js';
export {
  type HtmlForm,
  type PageResponse,
  parseForms,
  type StoredCookie,
  UserAgent,
} from './user-agent.js';
