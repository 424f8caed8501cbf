export { ConfigError, configProblem, parseEnv } from './env.js';
export {
  failureOf,
  faultOf,
  isClientConnectionError,
  type RequestFailure,
  recordFailure,
  statusOfThrown,
} from './failures.js';
export { type HostGuardOptions, hostGuard, parseHostHeader } from './host.js';
export { listener } from './http.js';
export { jsonDepthWithin, MAX_JSON_DEPTH } from './json-depth.js';
export { type RunServerOptions, runServer } from './main.js';
export {
  type AppMetrics,
  createMetrics,
  type MetricsConfig,
  metricsRoute,
  serveMetrics,
} from './metrics.js';
export { sendOAuthError } from './oauth-error.js';
export { RequestBodyError, readRequestBody } from './request-body.js';
export { logAppErrors, requestLog } from './request-log.js';
export { requestHygiene } from './request-target.js';
