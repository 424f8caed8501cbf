import { join } from 'node:path';
import { ensureDistribution, findJavaHome } from '@gatehouse/keycloak-runner';

/**
 * Fetches and builds the Keycloak distributions the Keycloak suites start, once, before any test
 * file runs: test files run in parallel and must not unpack or build the same copy at once.
 */
export default function setup(): void {
  const cacheDir =
    process.env.GATEHOUSE_KEYCLOAK_CACHE ??
    join(new URL('../../../', import.meta.url).pathname, '.tools', 'keycloak');
  const javaHome = findJavaHome();
  const log = (line: string) => console.log(`[keycloak] ${line}`);
  ensureDistribution(cacheDir, { javaHome, log });
  ensureDistribution(cacheDir, { javaHome, log, features: ['resource-indicators', 'cimd'] });
}
