import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEYCLOAK_VERSION, REALM_FILE } from '../src/index.js';

/**
 * The Docker Compose profile cannot run here (no Docker daemon), so these checks keep it equivalent
 * to the launcher the tests do run: same Keycloak version, same realm file, same placeholders.
 */

const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
const realm = readFileSync(REALM_FILE, 'utf8');
const launcher = readFileSync(new URL('../src/launcher.ts', import.meta.url), 'utf8');

describe('infra/docker-compose.yml matches npm run keycloak', () => {
  it('runs the same Keycloak version', () => {
    expect(compose).toContain(`image: quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}`);
  });

  it('imports the same realm file on the same port with the same fixed hostname', () => {
    expect(compose).toContain('./keycloak/mcp-realm.json:/opt/keycloak/data/import/mcp-realm.json');
    expect(compose).toContain('--import-realm');
    expect(compose).toContain('127.0.0.1:8180:8180');
    expect(compose).toContain('--hostname=http://127.0.0.1:8180');
  });

  it('passes every placeholder the realm file uses, as the launcher does', () => {
    const placeholders = [
      ...new Set([...realm.matchAll(/\$\{([A-Z_]+)(?::[^}]*)?\}/g)].map((m) => m[1])),
    ];
    expect(placeholders.sort()).toEqual(['KC_MCP_INTROSPECTION_SECRET', 'MCP_RESOURCE']);
    for (const name of placeholders) {
      expect(compose).toContain(`${name}:`);
      expect(launcher).toContain(`${name}:`);
    }
  });
});

describe('infra/keycloak/mcp-realm.json', () => {
  const parsed = JSON.parse(realm) as {
    realm: string;
    clientScopes: Array<{ name: string }>;
    defaultDefaultClientScopes: string[];
    components: Record<string, Array<{ providerId: string; subType: string }>>;
  };

  it('declares the built-in scopes an import with clientScopes would otherwise lose', () => {
    const names = parsed.clientScopes.map((scope) => scope.name);
    for (const scope of ['basic', 'profile', 'mcp:tools', 'mcp:admin'])
      expect(names).toContain(scope);
    expect(parsed.defaultDefaultClientScopes).toContain('basic');
  });

  it('restricts anonymous registration by trusted hosts (an import with any policy gets no defaults)', () => {
    const policies =
      parsed.components[
        'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'
      ] ?? [];
    expect(policies.filter((p) => p.subType === 'anonymous').map((p) => p.providerId)).toContain(
      'trusted-hosts',
    );
  });
});
