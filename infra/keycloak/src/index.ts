export {
  type Distribution,
  ensureDistribution,
  KEYCLOAK_VERSION,
  keycloakCacheDir,
} from './distribution.js';
export { findJavaHome } from './java.js';
export {
  type KeycloakOptions,
  REALM,
  REALM_FILE,
  type RunningKeycloak,
  startKeycloak,
} from './launcher.js';
export {
  importRealm,
  type KeycloakAdmin,
  keycloakAdmin,
  UPSTREAM_REALM_FILE,
} from './realms.js';
