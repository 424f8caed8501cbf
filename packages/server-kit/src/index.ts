export { ConfigError, configProblem, parseEnv } from './env.js';
export { listener, requestLog } from './http.js';
export { type RunServerOptions, runServer } from './main.js';
