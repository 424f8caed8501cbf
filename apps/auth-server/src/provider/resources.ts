import { tryCanonicalizeResourceUri } from '@gatehouse/auth-core';
import type { ResourceConfig } from '../config.js';

/** Built-in descriptions shown on the consent page; resources may add their own. */
const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  openid: 'Know who you are',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay connected without asking you again (refresh tokens)',
  'mcp:tools': 'Use the tools of this MCP server',
  'mcp:admin': 'Use the administrative tools of this MCP server',
};

/**
 * The resource servers tokens can be issued for, keyed by canonical resource URI. Every resource
 * value from a request goes through {@link ResourceRegistry.canonical} before it is compared, so
 * `HTTP://LOCALHOST:3000/mcp/` and `http://localhost:3000/mcp` are one resource.
 */
export class ResourceRegistry {
  readonly #byUri: ReadonlyMap<string, ResourceConfig>;
  readonly defaultResource: string;

  constructor(resources: readonly ResourceConfig[], defaultResource: string) {
    this.#byUri = new Map(resources.map((r) => [r.resource, r]));
    this.defaultResource = defaultResource;
  }

  /** The canonical spelling of a requested resource, or the input unchanged if it is not a URI. */
  canonical(value: string): string {
    return tryCanonicalizeResourceUri(value) ?? value;
  }

  get(resource: string): ResourceConfig | undefined {
    return this.#byUri.get(this.canonical(resource));
  }

  /** Scopes granted when a request for `resource` names none. */
  defaultScopes(resource: string): readonly string[] {
    const config = this.get(resource);
    return config ? (config.defaultScopes ?? config.scopes) : [];
  }

  /** Every scope of every resource (oidc-provider must know them all). */
  allScopes(): string[] {
    return [...new Set([...this.#byUri.values()].flatMap((r) => r.scopes))];
  }

  all(): ResourceConfig[] {
    return [...this.#byUri.values()];
  }

  describe(scope: string): string {
    return SCOPE_DESCRIPTIONS[scope] ?? scope;
  }
}
