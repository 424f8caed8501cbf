import { ensureDistribution, findJavaHome, keycloakCacheDir } from '@gatehouse/keycloak-runner';

/**
 * Fetches and builds the Keycloak distributions the Keycloak suites start, once, before any test
 * file runs: test files run in parallel and must not unpack or build the same copy at once.
 */
export default function setup(): void {
  const cacheDir = keycloakCacheDir();
  const javaHome = findJavaHome();
  const log = (line: string) => console.log(`[keycloak] ${line}`);
  ensureDistribution(cacheDir, { javaHome, log });
  ensureDistribution(cacheDir, { javaHome, log, features: ['resource-indicators', 'cimd'] });
}
